import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { tableCounts } from '../support/table-counts.js';

const uid = () => Math.random().toString(36).slice(2, 10);

function expectClientError(res: { status: number; body: any }, label: string) {
  expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(400);
  expect(res.body?.error?.code, label).toBe('invalid_request');
  expect(typeof res.body.error.message, label).toBe('string');
}

describe('hostile input: never a 500 for anything a client sent', () => {
  let app: TestApp;
  let admin: Record<string, string>;
  let reader: Record<string, string>;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    admin = (await signInAs(app, { email: `admin-${uid()}@example.org`, roles: ['admin'] })).headers;
    reader = (await signInAs(app, { email: `reader-${uid()}@example.org` })).headers;
  });
  afterAll(() => app.close());

  it('when a path parameter holds a malformed escape, then every route and method answers 400 with the error body', async () => {
    const paths = [
      '/api/fighting-fund/%ff',
      '/api/fighting-fund/%c0%ae',
      '/api/fighting-fund/%E0%A4%A',
      '/api/admin/campaigns/%ff',
      '/api/admin/ledger/%ff/reverse',
      '/api/admin/people/%E0%A4%A/roles/admin',
      '/api/admin/share-withdrawals/%c0%ae/approve',
      '/no-such-route/%ff',
      '/api/fighting-fund/%00',
    ];
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
        expectClientError(await app.request(method, path, { headers: admin, ...(method === 'GET' ? {} : { json: {} }) }), `${method} ${path}`);
      }
    }
  });

  it('when any text field holds a NUL or a lone surrogate, then 400 invalid_request and nothing is stored', async () => {
    const before = await tableCounts(app);
    const bad = ['A\u0000B', 'A\ud800B', '\udc00'];
    for (const name of bad) {
      const cases: [string, string, Record<string, unknown>, Record<string, string>?][] = [
        ['POST', '/api/donations', { amount: 500, email: 'n@example.org', name, acknowledge: true }],
        ['POST', '/api/auth/login', { email: `x${name}@example.org` }],
        [
          'POST',
          '/api/share-applications',
          {
            shares: 10,
            acceptRules: true,
            applicant: { kind: 'person', name, email: `s-${uid()}@example.org`, dateOfBirth: '1980-01-01', address: { line1: '1 A St', town: 'Leeds', postcode: 'LS1 1AA', country: 'GB' } },
          },
        ],
        ['PATCH', '/api/me', { name }, reader],
        ['POST', '/api/admin/campaigns', { slug: `c-${uid()}`, title: name, target: 100, startsAt: '2030-01-01T00:00:00Z', deadline: '2030-02-01T00:00:00Z' }, admin],
        ['PATCH', '/api/admin/campaigns/2026-11', { title: name }, admin],
        ['POST', '/api/admin/ledger', { amount: 100, method: 'cash', reference: name, givenAt: '2026-11-01T00:00:00Z' }, admin],
        ['POST', '/api/admin/ledger', { amount: 100, method: 'cash', reference: 'ok', givenAt: '2026-11-01T00:00:00Z', [name]: 1 }, admin],
      ];
      for (const [method, path, json, headers] of cases) {
        expectClientError(await app.request(method, path, { json, ...(headers ? { headers } : {}) }), `${method} ${path} ${JSON.stringify(name)}`);
      }
    }
    expectClientError(await app.request('POST', '/donate', { form: { amount: '5', email: 'n@example.org', name: 'A\u0000B' } }), 'POST /donate form');
    expectClientError(await app.request('GET', '/api/admin/audit?subjectId=%00', { headers: admin }), 'audit filter');
    expectClientError(await app.request('GET', '/api/fighting-fund/acknowledgements?campaign=a%00b'), 'query');
    expect(await tableCounts(app)).toEqual(before);
  });

  it('when a date is one no treasurer could mean, then 400 and no campaign is invented', async () => {
    const before = await tableCounts(app);
    for (const givenAt of ['0000-01-01T00:00:00Z', '1901-03-01T00:00:00Z', '+275760-09-13T00:00:00Z']) {
      const res = await app.request('POST', '/api/admin/ledger', { headers: admin, json: { amount: 100, method: 'cash', reference: `r-${uid()}`, givenAt } });
      expect(res.status, givenAt).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const campaign = await app.request('POST', '/api/admin/campaigns', {
      headers: admin,
      json: { slug: `c-${uid()}`, title: 'Old', target: 100, startsAt: '1901-03-01T00:00:00Z', deadline: '1901-04-01T00:00:00Z' },
    });
    expect(campaign.status).toBe(400);
    expectClientError(await app.request('GET', '/api/admin/audit?from=0000-01-01T00:00:00Z', { headers: admin }), 'audit from');
    expect(await tableCounts(app)).toEqual(before);
    const ok = await app.request('POST', '/api/admin/ledger', { headers: admin, json: { amount: 100, method: 'cash', reference: `r-${uid()}`, givenAt: '2026-11-01T00:00:00Z' } });
    expect(ok.status).toBe(201);
  });

  it('when a gift is dated further back than the books are kept (6 years), then 422 given_at_too_old, by the API, the form and the bank import alike, and no campaign is made for it', async () => {
    const before = await tableCounts(app);
    const old = await app.request('POST', '/api/admin/ledger', { headers: admin, json: { amount: 100, method: 'cash', reference: `r-${uid()}`, givenAt: '2019-03-01T00:00:00Z' } });
    expect(old.status).toBe(422);
    expect(old.body.error.code).toBe('given_at_too_old');
    const csv = `date,amount,reference,name\n01/03/1901,12.50,ref-${uid()},A Donor\n2019-03-01,5.00,ref-${uid()},B Donor\n`;
    const imported = await app.request('POST', '/api/admin/ledger/import', { headers: { ...admin, 'content-type': 'text/csv' }, body: csv });
    expect(imported.status).toBe(422);
    expect(JSON.stringify(imported.body)).toContain('more than 6 years ago');
    expect(await tableCounts(app)).toEqual(before);
    expect(await app.db.selectFrom('campaigns').select('slug').where('slug', 'in', ['1901-03', '2019-03']).execute()).toEqual([]);
    const recent = await app.request('POST', '/api/admin/ledger', { headers: admin, json: { amount: 100, method: 'cash', reference: `r-${uid()}`, givenAt: '2021-03-01T00:00:00Z' } });
    expect(recent.status).toBe(201);
  });
});
