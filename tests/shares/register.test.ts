import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDFParse } from 'pdf-parse';
import { followPersonDetails } from '../../src/shares/member-details.js';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { NOW, buyShares, memberByEmail, organisationApplication, personApplication, uniqueEmail } from './shares-helpers.js';

async function pdfText(body: ArrayBuffer | Buffer): Promise<string> {
  const parser = new PDFParse({ data: Buffer.from(body as ArrayBuffer) });
  try {
    return (await parser.getText()).text;
  } finally {
    await parser.destroy();
  }
}

describe('the register of members', () => {
  let app: TestApp;
  const ann = uniqueEmail('ann');
  const union = uniqueEmail('union');
  const cy = uniqueEmail('cy');
  const dan = uniqueEmail('dan');

  beforeAll(async () => {
    // A fresh database: member numbers start at 1, so the whole register can be written out by hand.
    app = await startTestApp({ now: NOW });
    await buyShares(app, personApplication(100, { email: ann, name: 'Ann Archer', postcode: 'LS1 1AA' }));
    app.clock.set('2026-11-26T09:00:00Z');
    await buyShares(app, organisationApplication(500, { email: union, name: 'Leeds Co-operative Society', registeredSociety: true }));
    app.clock.set('2026-11-27T09:00:00Z');
    const cyBought = await buyShares(app, personApplication(10, { email: cy, name: 'Cy, "the" Leaver', postcode: 'YO1 7HH' }));
    app.clock.set('2026-12-01T09:00:00Z');
    await app.stripe.refund(cyBought.sessionId);
    await buyShares(app, personApplication(5, { email: dan, name: '=HYPERLINK("http://evil.example")', postcode: 'M1 1AE' }));
    await buyShares(app, personApplication(50, { email: ann }));
    app.clock.set(NOW);
  });
  afterAll(() => app.close());

  const header =
    'member_number,name,kind,registered_society,address_line1,address_line2,town,postcode,country,email_for_notices,shares_held,amount_paid_pence,currency,admitted_on,ceased_on';

  it('exports the statutory register, present and former members, exactly as computed by hand', async () => {
    const { headers } = await signInAs(app, { email: uniqueEmail('treasurer'), roles: ['treasurer'] });
    const res = await app.request('GET', '/api/admin/register.csv', { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="register-of-members-2026-11-25.csv"');
    expect(res.text).toBe(
      [
        header,
        `1,Ann Archer,person,no,1 Print Street,,Leeds,LS1 1AA,United Kingdom,${ann},150,15000,GBP,2026-11-25,`,
        `2,Leeds Co-operative Society,organisation,yes,Union House,12 Mill Lane,Leeds,LS2 2BB,United Kingdom,${union},500,50000,GBP,2026-11-26,`,
        `3,"Cy, ""the"" Leaver",person,no,1 Print Street,,Leeds,YO1 7HH,United Kingdom,${cy},0,0,GBP,2026-11-27,2026-12-01`,
        // A name that a spreadsheet would run as a formula is defused with a leading quote.
        `4,"'=HYPERLINK(""http://evil.example"")",person,no,1 Print Street,,Leeds,M1 1AE,United Kingdom,${dan},5,500,GBP,2026-12-01,`,
        '',
      ].join('\n'),
    );
    const audit = await app.db.selectFrom('audit_log').selectAll().where('action', '=', 'register.exported').execute();
    expect(audit).toHaveLength(1);
  });

  it('exports the duplicate register: the same without holdings', async () => {
    const { headers } = await signInAs(app, { email: uniqueEmail('admin'), roles: ['admin'] });
    const res = await app.request('GET', '/api/admin/register/duplicate.csv', { headers });
    expect(res.status).toBe(200);
    const lines = res.text.trimEnd().split('\n');
    expect(lines[0]).toBe('member_number,name,kind,registered_society,address_line1,address_line2,town,postcode,country,email_for_notices,admitted_on,ceased_on');
    expect(lines[1]).toBe(`1,Ann Archer,person,no,1 Print Street,,Leeds,LS1 1AA,United Kingdom,${ann},2026-11-25,`);
    expect(lines[3]).toBe(`3,"Cy, ""the"" Leaver",person,no,1 Print Street,,Leeds,YO1 7HH,United Kingdom,${cy},2026-11-27,2026-12-01`);
    expect(lines).toHaveLength(5);
    expect(res.text).not.toContain('15000');
  });

  it('is for the board only: 401 signed out, 403 without the role', async () => {
    expect((await app.request('GET', '/api/admin/register.csv')).status).toBe(401);
    const { headers } = await signInAs(app, { email: ann });
    for (const path of ['/api/admin/register.csv', '/api/admin/register/duplicate.csv', '/api/admin/members?query=ann']) {
      const res = await app.request('GET', path, { headers });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
  });

  it('searches members by name, email, number and postcode, paged', async () => {
    const { headers } = await signInAs(app, { email: uniqueEmail('searcher'), roles: ['admin'] });
    const search = async (query: string, extra = '') => (await app.request('GET', `/api/admin/members?query=${encodeURIComponent(query)}${extra}`, { headers })).body;

    expect((await search('archer')).members.map((m: any) => m.number)).toEqual([1]);
    expect((await search(union)).members.map((m: any) => m.name)).toEqual(['Leeds Co-operative Society']);
    expect((await search('3')).members.map((m: any) => m.number)).toEqual([3]);
    expect((await search('yo17hh')).members.map((m: any) => m.number)).toEqual([3]);
    expect((await search('%')).members).toEqual([]);

    const all = await search('', '&pageSize=2&page=2');
    expect(all).toMatchObject({ page: 2, pageSize: 2, total: 4 });
    expect(all.members.map((m: any) => m.number)).toEqual([3, 4]);
    expect(all.members[0]).toMatchObject({ ceasedAt: '2026-12-01', sharesHeld: 0, address: { postcode: 'YO1 7HH' } });

    expect((await app.request('GET', '/api/admin/members?pageSize=1000', { headers })).status).toBe(400);
  });
});

describe('the share certificate', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW, env: { SOCIETY_NAME: 'Morning Star Readers Co-op', SOCIETY_REGISTRATION_NUMBER: 'RS007523' } });
  });
  afterAll(() => app.close());

  it('names the society and its registration number, the member and number, the shares held and the date', async () => {
    const email = uniqueEmail('cert');
    await buyShares(app, personApplication(1234, { email, name: 'Rosa Holder' }));
    const member = (await memberByEmail(app, email))!;
    app.clock.set('2026-12-03T10:00:00Z');
    const { headers } = await signInAs(app, { email });
    const res = await fetch(`${app.url}/api/me/certificate.pdf`, { headers });
    app.clock.set(NOW);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('cache-control')).toContain('no-store');
    const text = (await pdfText(await res.arrayBuffer())).replace(/\s+/g, ' ');
    expect(text).toContain('Morning Star Readers Co-op');
    expect(text).toContain('Registered society number RS007523');
    expect(text).toContain('Share Certificate');
    expect(text).toContain('Rosa Holder');
    expect(text).toContain(`Member number ${member.number}`);
    expect(text).toContain('1,234 fully paid withdrawable shares of £1.00 each');
    expect(text).toContain('£1,234.00 having been paid');
    expect(text).toContain('Admitted to membership on 25 November 2026');
    expect(text).toContain('Date: 3 December 2026');
  });

  it('prints names as members write them, beyond Latin-1', async () => {
    const email = uniqueEmail('cert-names');
    const name = 'Łukasz Żółć-Οδυσσέας Ёлкин';
    await buyShares(app, personApplication(5, { email, name }));
    const { headers } = await signInAs(app, { email });
    const res = await fetch(`${app.url}/api/me/certificate.pdf`, { headers });
    expect(res.status).toBe(200);
    expect((await pdfText(await res.arrayBuffer())).replace(/\s+/g, ' ')).toContain(name);
  });

  it('when the person is not a member, then 404 not_a_member; signed out, 401', async () => {
    const { headers } = await signInAs(app, { email: uniqueEmail('outsider') });
    const res = await app.request('GET', '/api/me/certificate.pdf', { headers });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_a_member');
    expect((await app.request('GET', '/api/me/certificate.pdf')).status).toBe(401);
  });
});

describe('the register follows a member changing their details', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('updates the name and postal address of a member who is a person, audited, and leaves organisations alone', async () => {
    const email = uniqueEmail('mover');
    await buyShares(app, personApplication(10, { email, name: 'Old Name' }));
    const before = (await memberByEmail(app, email))!;
    const actor = { id: before.person_id, email };
    await app.db.transaction().execute((trx) =>
      followPersonDetails(app.deps, trx, actor, before.person_id, {
        name: 'New Name',
        postalAddress: { line1: '9 New Road', line2: null, town: 'Hull', postcode: 'HU1 1AA', country: 'United Kingdom' },
      }),
    );
    expect(await memberByEmail(app, email)).toMatchObject({ id: before.id, number: before.number, name: 'New Name', address_line1: '9 New Road', town: 'Hull', postcode: 'HU1 1AA' });
    const audit = await app.db.selectFrom('audit_log').selectAll().where('action', '=', 'member.details_changed').where('subject_id', '=', String(before.number)).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ before: null, after: { fields: expect.arrayContaining(['name', 'town', 'postcode']) } });

    // Clearing the account's address does not empty the register.
    await app.db.transaction().execute((trx) => followPersonDetails(app.deps, trx, actor, before.person_id, { name: null, postalAddress: null }));
    expect(await memberByEmail(app, email)).toMatchObject({ name: 'New Name', town: 'Hull' });

    const orgEmail = uniqueEmail('orgcontact');
    await buyShares(app, organisationApplication(10, { email: orgEmail, name: 'The Branch' }));
    const org = (await memberByEmail(app, orgEmail))!;
    await app.db.transaction().execute((trx) => followPersonDetails(app.deps, trx, { id: org.person_id, email: orgEmail }, org.person_id, { name: 'Secretary Sam' }));
    expect((await memberByEmail(app, orgEmail))!.name).toBe('The Branch');
  });
});
