import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { fundTableCounts, giveOnline, uid } from './fund-helpers.js';

const adminRoutes: [string, string, unknown?][] = [
  ['POST', '/api/admin/campaigns', { slug: 'x', title: 'x', target: 1, startsAt: '2030-01-01T00:00:00Z', deadline: '2030-02-01T00:00:00Z' }],
  ['PATCH', '/api/admin/campaigns/2026-11', { title: 'x' }],
  ['POST', '/api/admin/ledger', { amount: 100, method: 'cash', reference: 'x', givenAt: '2026-11-01T00:00:00Z' }],
  ['POST', '/api/admin/ledger/1/reverse', { reason: 'x' }],
  ['GET', '/api/admin/ledger.csv'],
];

describe('admin fund routes: who may call them', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
  });
  afterAll(() => app.close());

  it('when nobody is signed in, then every admin route answers 401 and changes nothing', async () => {
    const before = await fundTableCounts(app);
    for (const [method, path, json] of adminRoutes) {
      const res = await app.request(method, path, json === undefined ? {} : { json });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe('unauthenticated');
    }
    expect(await fundTableCounts(app)).toEqual(before);
  });

  it('when a signed-in reader without a role calls them, then 403 and nothing changes', async () => {
    const { headers } = await signInAs(app, { email: `reader-${uid()}@example.org` });
    const before = await fundTableCounts(app);
    for (const [method, path, json] of adminRoutes) {
      const res = await app.request(method, path, { headers, ...(json === undefined ? {} : { json }) });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect(await fundTableCounts(app)).toEqual(before);
  });

  it('lets a treasurer in as well as an admin', async () => {
    const { headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] });
    const res = await app.request('POST', '/api/admin/ledger', {
      headers,
      json: { amount: 100, method: 'cash', reference: 'tin', givenAt: '2026-11-19T10:00:00Z' },
    });
    expect(res.status).toBe(201);
  });
});

describe('POST /api/admin/campaigns and PATCH /api/admin/campaigns/:slug', () => {
  let app: TestApp;
  let headers: Record<string, string>;
  let personId: string;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    ({ headers, personId } = await signInAs(app, { email: `admin-${uid()}@example.org`, roles: ['admin'] }));
  });
  afterAll(() => app.close());

  const special = (over: Record<string, unknown> = {}) => ({
    slug: `appeal-${uid()}`,
    title: 'New press appeal',
    target: 2_500_000,
    startsAt: '2030-03-01T00:00:00Z',
    deadline: '2030-03-15T23:59:59Z',
    ...over,
  });

  it('creates a special campaign, audited, which is current while it runs', async () => {
    const body = special({ startsAt: '2026-11-22T00:00:00Z', deadline: '2026-11-25T23:59:59Z' });
    const res = await app.request('POST', '/api/admin/campaigns', { headers, json: body });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      slug: body.slug,
      title: 'New press appeal',
      kind: 'special',
      target: 2_500_000,
      currency: 'GBP',
      startsAt: '2026-11-22T00:00:00.000Z',
      deadline: '2026-11-25T23:59:59.000Z',
    });
    const audit = await app.db.selectFrom('audit_log').selectAll().where('subject_id', '=', body.slug).execute();
    expect(audit).toMatchObject([{ action: 'campaign.created', subject_type: 'campaign', actor_id: personId, after: res.body }]);
    app.clock.set('2026-11-23T12:00:00Z');
    expect((await app.request('GET', '/api/fighting-fund')).body).toMatchObject({ campaign: { slug: body.slug }, daysRemaining: 3 });
    app.clock.set('2026-11-20T10:00:00Z');
  });

  it('refuses bad campaigns with the contract error and leaves the database as it was', async () => {
    const taken = special();
    expect((await app.request('POST', '/api/admin/campaigns', { headers, json: taken })).status).toBe(201);
    const before = await fundTableCounts(app);
    const cases: [unknown, number, string][] = [
      [special({ slug: '2031-05' }), 422, 'slug_reserved'],
      [special({ startsAt: '2030-03-15T00:00:00Z', deadline: '2030-03-01T00:00:00Z' }), 422, 'deadline_before_start'],
      [special({ startsAt: '2030-03-10T00:00:00Z', deadline: '2030-03-20T00:00:00Z' }), 422, 'campaign_overlaps'],
      [special({ currency: 'EUR', startsAt: '2031-01-01T00:00:00Z', deadline: '2031-01-02T00:00:00Z' }), 422, 'currency_not_supported'],
      [{ ...taken, startsAt: '2032-01-01T00:00:00Z', deadline: '2032-01-02T00:00:00Z' }, 409, 'campaign_exists'],
      [special({ slug: 'Bad Slug' }), 400, 'invalid_request'],
      [special({ target: 10.5 }), 400, 'invalid_request'],
      [special({ target: -1 }), 400, 'invalid_request'],
      [special({ target: 0 }), 400, 'invalid_request'],
      [special({ target: '100' }), 400, 'invalid_request'],
      [special({ target: 1e20 }), 400, 'invalid_request'],
      [special({ startsAt: 'next tuesday' }), 400, 'invalid_request'],
      [special({ deadline: '2030-03-15' }), 400, 'invalid_request'],
      [special({ title: '' }), 400, 'invalid_request'],
      [{}, 400, 'invalid_request'],
    ];
    for (const [json, status, code] of cases) {
      const res = await app.request('POST', '/api/admin/campaigns', { headers, json });
      expect(res.status, JSON.stringify(json)).toBe(status);
      expect(res.body, JSON.stringify(json)).toEqual({ error: { code, message: expect.any(String), ...(res.body.error.details === undefined ? {} : { details: expect.anything() }) } });
    }
    const malformed = await app.request('POST', '/api/admin/campaigns', { body: '{"slug":', headers: { ...headers, 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(await fundTableCounts(app)).toEqual(before);
  });

  it('changes title and target, audited with before and after', async () => {
    await app.request('GET', '/api/fighting-fund'); // the November campaign exists
    const res = await app.request('PATCH', '/api/admin/campaigns/2026-11', { headers, json: { title: 'November: save the press', target: 2_000_000 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ slug: '2026-11', title: 'November: save the press', target: 2_000_000, kind: 'monthly' });
    const fund = await app.request('GET', '/api/fighting-fund/2026-11');
    expect(fund.body).toMatchObject({ target: 2_000_000, campaign: { title: 'November: save the press' } });
    const audit = await app.db.selectFrom('audit_log').selectAll().where('action', '=', 'campaign.updated').where('subject_id', '=', '2026-11').executeTakeFirstOrThrow();
    expect(audit.before).toMatchObject({ title: 'November 2026 fighting fund', target: 1_800_000 });
    expect(audit.after).toMatchObject({ title: 'November: save the press', target: 2_000_000 });
  });

  it('moves a special campaign’s period, but not a monthly one’s, and never a currency', async () => {
    const created = await app.request('POST', '/api/admin/campaigns', { headers, json: special({ startsAt: '2033-01-01T00:00:00Z', deadline: '2033-01-10T00:00:00Z' }) });
    const slug = created.body.slug as string;
    const moved = await app.request('PATCH', `/api/admin/campaigns/${slug}`, { headers, json: { deadline: '2033-01-20T00:00:00Z' } });
    expect(moved.status).toBe(200);
    expect(moved.body.deadline).toBe('2033-01-20T00:00:00.000Z');

    const before = await fundTableCounts(app);
    const cases: [string, unknown, number, string][] = [
      ['2026-11', { deadline: '2026-11-29T23:59:59Z' }, 422, 'monthly_period_fixed'],
      [slug, { currency: 'EUR' }, 422, 'currency_cannot_change'],
      [slug, { deadline: '2032-12-01T00:00:00Z' }, 422, 'deadline_before_start'],
      ['2098-01', { title: 'x' }, 404, 'campaign_not_found'],
      [slug, {}, 400, 'invalid_request'],
      [slug, { target: 0 }, 400, 'invalid_request'],
      ['NOT A SLUG', { title: 'x' }, 400, 'invalid_request'],
    ];
    for (const [s, json, status, code] of cases) {
      const res = await app.request('PATCH', `/api/admin/campaigns/${encodeURIComponent(s)}`, { headers, json });
      expect(res.status, `${s} ${JSON.stringify(json)}`).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    expect(await fundTableCounts(app)).toEqual(before);
  });
});

describe('POST /api/admin/ledger (offline gifts) and POST /api/admin/ledger/:id/reverse', () => {
  let app: TestApp;
  let headers: Record<string, string>;
  let personId: string;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    ({ headers, personId } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] }));
  });
  afterAll(() => app.close());

  const gift = (over: Record<string, unknown> = {}) => ({
    amount: 2500,
    method: 'cheque',
    reference: `cheque ${uid()}`,
    givenAt: '2026-11-18T09:00:00Z',
    ...over,
  });

  it('records a gift in the campaign current when it was given, audited, and the total moves', async () => {
    const json = gift({ givenAt: '2026-10-30T15:00:00Z', name: 'Branch 12', town: 'Sheffield', acknowledge: true, amount: 12_000 });
    const res = await app.request('POST', '/api/admin/ledger', { headers, json });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      campaign: '2026-10',
      kind: 'offline_gift',
      method: 'cheque',
      amount: 12_000,
      currency: 'GBP',
      givenAt: '2026-10-30T15:00:00.000Z',
      recordedAt: '2026-11-20T10:00:00.000Z',
      reference: json.reference,
      acknowledged: true,
      name: 'Branch 12',
      town: 'Sheffield',
      reversesEntryId: null,
      reason: null,
    });
    const row = await app.db.selectFrom('ledger_entries').selectAll().where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(row.recorded_by).toBe(personId);
    const audit = await app.db.selectFrom('audit_log').selectAll().where('subject_id', '=', String(res.body.id)).execute();
    const { name: _name, town: _town, ...withoutDonor } = res.body;
    // The donor's name and town stay beside the ledger, where erasure can reach them, never in the append-only log.
    expect(audit).toEqual([expect.objectContaining({ action: 'ledger.offline_gift_recorded', actor_id: personId, after: withoutDonor })]);
    expect((await app.request('GET', '/api/fighting-fund/2026-10')).body).toMatchObject({ raised: 12_000, donationCount: 1 });
    const thanks = await app.request('GET', '/api/fighting-fund/acknowledgements?campaign=2026-10');
    expect(thanks.body).toEqual([{ name: 'Branch 12', town: 'Sheffield', amount: 12_000, givenAt: '2026-10-30T15:00:00.000Z' }]);
  });

  it('keeps no name when the donor did not ask to be acknowledged, and honours an explicit campaign', async () => {
    await app.request('GET', '/api/fighting-fund');
    const res = await app.request('POST', '/api/admin/ledger', {
      headers,
      json: gift({ campaign: '2026-11', givenAt: '2026-10-31T20:00:00Z', name: 'Anon', town: 'Bath', method: 'bank_transfer' }),
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ campaign: '2026-11', acknowledged: false, name: null, town: null, method: 'bank_transfer' });
  });

  it('refuses bad gifts with the contract error and leaves the database as it was', async () => {
    const before = await fundTableCounts(app);
    const cases: [unknown, number, string][] = [
      [gift({ amount: 0 }), 400, 'invalid_request'],
      [gift({ amount: -500 }), 400, 'invalid_request'],
      [gift({ amount: 12.5 }), 400, 'invalid_request'],
      [gift({ amount: '2500' }), 400, 'invalid_request'],
      [gift({ amount: 9e15 }), 400, 'invalid_request'],
      [gift({ amount: undefined }), 400, 'invalid_request'],
      [gift({ method: 'bitcoin' }), 400, 'invalid_request'],
      [gift({ reference: '' }), 400, 'invalid_request'],
      [gift({ givenAt: 'yesterday' }), 400, 'invalid_request'],
      [gift({ campaign: 'Bad Slug' }), 400, 'invalid_request'],
      [gift({ acknowledge: 'yes' }), 400, 'invalid_request'],
      [gift({ campaign: '2097-02' }), 404, 'campaign_not_found'],
      [gift({ givenAt: '2026-11-21T10:00:00Z' }), 422, 'given_at_in_future'],
      [gift({ acknowledge: true }), 422, 'acknowledgement_needs_name'],
    ];
    for (const [json, status, code] of cases) {
      const res = await app.request('POST', '/api/admin/ledger', { headers, json });
      expect(res.status, JSON.stringify(json)).toBe(status);
      expect(res.body.error.code, JSON.stringify(json)).toBe(code);
    }
    expect(await fundTableCounts(app)).toEqual(before);
  });

  it('reverses a gift once with an opposite correction, refuses a second reversal and reversing the reversal', async () => {
    app.clock.set('2027-02-10T10:00:00Z');
    // Sessions expire by the same clock: sign in again where the clock now stands.
    const { headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] });
    const created = await app.request('POST', '/api/admin/ledger', { headers, json: gift({ givenAt: '2027-02-09T10:00:00Z', amount: 7000 }) });
    expect((await app.request('GET', '/api/fighting-fund')).body).toMatchObject({ raised: 7000, donationCount: 1 });

    const reversed = await app.request('POST', `/api/admin/ledger/${created.body.id}/reverse`, { headers, json: { reason: 'cheque bounced' } });
    expect(reversed.status).toBe(201);
    expect(reversed.body).toMatchObject({
      campaign: '2027-02',
      kind: 'correction',
      amount: -7000,
      reversesEntryId: created.body.id,
      reason: 'cheque bounced',
      givenAt: '2027-02-09T10:00:00.000Z',
      recordedAt: '2027-02-10T10:00:00.000Z',
    });
    expect((await app.request('GET', '/api/fighting-fund')).body).toMatchObject({ raised: 0, donationCount: 0 });
    const audit = await app.db.selectFrom('audit_log').selectAll().where('action', '=', 'ledger.entry_reversed').where('subject_id', '=', String(created.body.id)).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.before).toMatchObject({ amount: 7000 });
    expect(audit[0]!.after).toMatchObject({ amount: -7000 });

    const before = await fundTableCounts(app);
    const again = await app.request('POST', `/api/admin/ledger/${created.body.id}/reverse`, { headers, json: { reason: 'again' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('entry_already_reversed');
    const ofReversal = await app.request('POST', `/api/admin/ledger/${reversed.body.id}/reverse`, { headers, json: { reason: 'undo' } });
    expect(ofReversal.status).toBe(422);
    expect(ofReversal.body.error.code).toBe('correction_not_reversible');
    expect(await fundTableCounts(app)).toEqual(before);
  });

  it('when two reversals of one gift race, then exactly one is booked', async () => {
    const { headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] });
    const created = await app.request('POST', '/api/admin/ledger', { headers, json: gift() });
    const results = await Promise.all(
      [1, 2, 3].map(() => app.request('POST', `/api/admin/ledger/${created.body.id}/reverse`, { headers, json: { reason: 'duplicate entry' } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const rows = await app.db.selectFrom('ledger_entries').select('id').where('reverses_entry_id', '=', created.body.id).execute();
    expect(rows).toHaveLength(1);
  });

  it('refuses to reverse a Stripe entry, an unknown entry or a malformed id, and needs a reason', async () => {
    const { headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] });
    const { entry } = await giveOnline(app, { amount: 1000 });
    const before = await fundTableCounts(app);
    const stripe = await app.request('POST', `/api/admin/ledger/${entry.id}/reverse`, { headers, json: { reason: 'x' } });
    expect(stripe.status).toBe(422);
    expect(stripe.body.error.code).toBe('stripe_entry_not_reversible');
    expect((await app.request('POST', '/api/admin/ledger/999999/reverse', { headers, json: { reason: 'x' } })).body.error.code).toBe('ledger_entry_not_found');
    expect((await app.request('POST', '/api/admin/ledger/abc/reverse', { headers, json: { reason: 'x' } })).status).toBe(400);
    expect((await app.request('POST', '/api/admin/ledger/0/reverse', { headers, json: { reason: 'x' } })).status).toBe(400);
    expect((await app.request('POST', `/api/admin/ledger/${entry.id}/reverse`, { headers, json: {} })).status).toBe(400);
    expect((await app.request('POST', `/api/admin/ledger/${entry.id}/reverse`, { headers, json: { reason: '   ' } })).status).toBe(400);
    expect(await fundTableCounts(app)).toEqual(before);
  });
});

describe('GET /api/admin/ledger.csv', () => {
  let app: TestApp;
  let headers: Record<string, string>;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    ({ headers } = await signInAs(app, { email: `admin-${uid()}@example.org`, roles: ['admin'] }));
  });
  afterAll(() => app.close());

  it('streams the campaign’s entries as CSV, amounts in pence, formulas defused, and audits the export', async () => {
    const online = await giveOnline(app, { amount: 1500, acknowledged: true, donorName: 'Ann, "the" donor', donorTown: 'York' });
    await app.request('POST', '/api/admin/ledger', {
      headers,
      json: { amount: 2000, method: 'cash', reference: '=HYPERLINK("http://evil")', givenAt: '2026-11-19T10:00:00Z' },
    });
    app.clock.set('2026-12-05T10:00:00Z');
    await giveOnline(app, { amount: 999 }); // December: not in November's export
    ({ headers } = await signInAs(app, { email: `admin-${uid()}@example.org`, roles: ['admin'] }));

    const res = await app.request('GET', '/api/admin/ledger.csv?campaign=2026-11', { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="ledger-2026-11.csv"');
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toBe(
      'id,campaign,kind,method,amount_pence,currency,given_at,recorded_at,reference,stripe_key,donation_id,acknowledged,donor_name,donor_town,reverses_entry_id,original_entry_id,reason,recorded_by',
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`${online.entry.id},2026-11,online_donation,,1500,GBP,`);
    expect(lines[1]).toContain(',true,"Ann, ""the"" donor",York,');
    expect(lines[2]).toContain(`,2026-11,offline_gift,cash,2000,GBP,`);
    expect(lines[2]).toContain(`"'=HYPERLINK(""http://evil"")"`);

    const all = await app.request('GET', '/api/admin/ledger.csv', { headers });
    expect(all.text.trim().split('\n')).toHaveLength(4);
    const audit = await app.db.selectFrom('audit_log').select(['action', 'subject_id']).where('action', '=', 'ledger.exported').orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'ledger.exported', subject_id: '2026-11' },
      { action: 'ledger.exported', subject_id: 'all' },
    ]);
  });

  it('pages through a ledger larger than one page', async () => {
    app.clock.set('2031-09-10T10:00:00Z');
    const { headers } = await signInAs(app, { email: `admin-${uid()}@example.org`, roles: ['admin'] });
    const { entry } = await giveOnline(app, { amount: 100 });
    await sql`insert into ledger_entries (campaign_id, kind, method, amount, currency, given_at, source_ref)
              select ${entry.campaign_id}, 'offline_gift', 'cash', n, 'GBP', '2031-09-09T10:00:00Z', 'bulk'
                from generate_series(1, 2500) as n`.execute(app.db);
    const res = await app.request('GET', '/api/admin/ledger.csv?campaign=2031-09', { headers });
    const lines = res.text.trim().split('\n');
    expect(lines).toHaveLength(1 + 2501);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(2501);
  });

  it('answers 404 for an unknown campaign and 400 for a malformed one, before any CSV', async () => {
    const { headers } = await signInAs(app, { email: `admin-${uid()}@example.org`, roles: ['admin'] });
    const before = await fundTableCounts(app);
    const unknown = await app.request('GET', '/api/admin/ledger.csv?campaign=2096-01', { headers });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('campaign_not_found');
    expect((await app.request('GET', '/api/admin/ledger.csv?campaign=..%2Fetc', { headers })).status).toBe(400);
    expect(await fundTableCounts(app)).toEqual(before);
  });
});
