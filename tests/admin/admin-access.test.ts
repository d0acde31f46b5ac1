/**
 * Every /admin page and admin API route is refused to anonymous callers and to
 * members without a role, and changes nothing; the treasurer and admin get in.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { uid } from '../fighting-fund/fund-helpers.js';

const someId = '00000000-0000-4000-8000-000000000000';

/** [method, path, form or JSON body] of every admin route this desk serves. */
export const adminPages: [string, string, Record<string, string>?][] = [
  ['GET', '/admin'],
  ['GET', '/admin/campaigns'],
  ['POST', '/admin/campaigns', { title: 'x', slug: 'x-appeal', target: '10', startsOn: '2030-01-01', endsOn: '2030-01-02' }],
  ['POST', '/admin/campaigns/2026-11', { target: '1' }],
  ['GET', '/admin/ledger'],
  ['GET', '/admin/ledger/new'],
  ['POST', '/admin/ledger', { amount: '5', method: 'cash', reference: 'tin', givenOn: '2026-11-19' }],
  ['GET', '/admin/ledger/1/reverse'],
  ['POST', '/admin/ledger/1/reverse', { reason: 'x' }],
  ['GET', '/admin/import'],
  ['POST', '/admin/import', { step: 'book', csv: 'date,amount,reference,name\n2026-11-19,5.00,x,\n' }],
  ['GET', '/admin/donors'],
  ['GET', '/admin/members?query=a'],
  ['GET', '/admin/members/1'],
  ['POST', '/admin/members/1/details', { source: 'letter', name: 'X' }],
  ['GET', '/admin/withdrawals'],
  ['POST', `/admin/withdrawals/${someId}/approve`, {}],
  ['GET', '/admin/people'],
  ['POST', `/admin/people/${someId}/roles/admin/grant`, {}],
  ['GET', '/admin/audit'],
  ['GET', '/admin/reconciliation'],
  ['POST', '/admin/reconciliation/repair', { from: '2026-11-19', to: '2026-11-19' }],
];

export const adminApis: [string, string, unknown?, string?][] = [
  ['POST', '/api/admin/ledger/import', 'date,amount,reference,name\n2026-11-19,5.00,x,\n', 'text/csv'],
  ['GET', '/api/admin/acknowledgements?from=2026-11-01&to=2026-11-30'],
  ['GET', '/api/admin/reconciliation?from=2026-11-19&to=2026-11-19'],
  ['POST', '/api/admin/reconciliation/repair', { from: '2026-11-19', to: '2026-11-19' }],
];

async function counts(app: TestApp) {
  const { rows } = await sql<Record<string, number>>`
    select (select count(*) from campaigns)::int8 as campaigns, (select count(*) from ledger_entries)::int8 as ledger,
           (select count(*) from audit_log)::int8 as audit, (select count(*) from members)::int8 as members,
           (select count(*) from share_withdrawals where status <> 'requested')::int8 as decided,
           (select count(*) from people where roles <> '{}')::int8 as roles,
           (select count(*) from reconciliation_runs)::int8 as runs, (select count(*) from stripe_events)::int8 as events`.execute(app.db);
  return rows[0]!;
}

describe('who may use the admin desk', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
  });
  afterAll(() => app.close());

  const call = (method: string, path: string, body: unknown, type: string | undefined, headers: Record<string, string>) =>
    app.request(method, path, {
      headers: { ...headers, ...(type ? { 'content-type': type } : {}) },
      ...(body === undefined ? {} : typeof body === 'string' ? { body } : { json: body }),
    });

  it('when nobody is signed in, then every page is a 403 page and every API route 401, and nothing changes', async () => {
    const before = await counts(app);
    for (const [method, path, form] of adminPages) {
      const res = await app.request(method, path, { headers: { accept: 'text/html' }, ...(form ? { form } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers.get('content-type'), `${method} ${path}`).toContain('text/html');
      expect(res.text).toContain('sign in');
    }
    for (const [method, path, body, type] of adminApis) {
      const res = await call(method, path, body, type, {});
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect(await counts(app)).toEqual(before);
  });

  it('when a member without a role is signed in, then every page and API route is 403, and nothing changes', async () => {
    const { headers } = await signInAs(app, { email: `reader-${uid()}@example.org` });
    const before = await counts(app);
    for (const [method, path, form] of adminPages) {
      const res = await app.request(method, path, { headers: { ...headers, accept: 'text/html' }, ...(form ? { form } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    for (const [method, path, body, type] of adminApis) {
      const res = await call(method, path, body, type, headers);
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect(await counts(app)).toEqual(before);
  });

  it('when a treasurer opens each page, then it answers 200', async () => {
    const { headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] });
    for (const [method, path] of adminPages) {
      if (method !== 'GET' || path.includes('/reverse') || path === '/admin/members/1' || path === '/admin/people') continue;
      const res = await app.request('GET', path, { headers: { ...headers, accept: 'text/html' } });
      expect(res.status, path).toBe(200);
      expect(res.text, path).toContain('aria-label="Treasurer and board"');
    }
  });
});

