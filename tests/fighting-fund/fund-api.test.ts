import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCurrentCampaign } from '../../src/fighting-fund/campaigns.service.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { fundTableCounts, giveOnline, takeBack, uid } from './fund-helpers.js';

/** Puts the clock in a month of its own, so each test has a campaign (and a total) of its own. */
function standIn(app: TestApp, londonIso: string): void {
  app.clock.set(londonIso);
}

describe('GET /api/fighting-fund and /api/fighting-fund/:slug', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
  });
  afterAll(() => app.close());

  it('when no campaign exists yet, then the current month is created and answered in the contract shape', async () => {
    standIn(app, '2026-11-20T10:00:00Z');
    const res = await app.request('GET', '/api/fighting-fund');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      campaign: {
        slug: '2026-11',
        title: 'November 2026 fighting fund',
        startsAt: '2026-11-01T00:00:00.000Z',
        deadline: '2026-11-30T23:59:59.000Z',
      },
      currency: 'GBP',
      target: 1_800_000,
      raised: 0,
      remaining: 1_800_000,
      daysRemaining: 11,
      percent: 0,
      donationCount: 0,
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const rows = await app.db.selectFrom('campaigns').selectAll().where('slug', '=', '2026-11').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'monthly', target: 1_800_000, currency: 'GBP' });
  });

  it('when gifts, a refund, a dispute and a won dispute are booked, then raised is their sum and the count is the gifts', async () => {
    standIn(app, '2027-01-10T12:00:00Z');
    const a = await giveOnline(app, { amount: 1_000_000 });
    const b = await giveOnline(app, { amount: 30_000 });
    await giveOnline(app, { amount: 2_500, kind: 'supporter_payment', stripeKey: `invoice:in_${uid()}` });
    await takeBack(app, { originalStripeKey: b.entry.stripe_key!, amount: 10_000 });
    await takeBack(app, { originalStripeKey: a.entry.stripe_key!, amount: 5_000, kind: 'dispute' });
    await takeBack(app, { originalStripeKey: a.entry.stripe_key!, amount: 5_000, kind: 'dispute_won' });
    await app.db
      .insertInto('ledger_entries')
      .values({ campaign_id: a.entry.campaign_id, kind: 'offline_gift', method: 'cheque', amount: 5_700, currency: 'GBP', given_at: app.clock.now(), source_ref: 'cheque 1' })
      .execute();

    const res = await app.request('GET', '/api/fighting-fund');
    expect(res.status).toBe(200);
    // 1,000,000 + 30,000 + 2,500 - 10,000 - 5,000 + 5,000 + 5,700
    expect(res.body).toMatchObject({
      campaign: { slug: '2027-01' },
      raised: 1_028_200,
      remaining: 771_800,
      percent: 57.1,
      daysRemaining: 22,
      donationCount: 4,
    });
  });

  it('when a new gift is booked, then the next request shows it at once', async () => {
    standIn(app, '2027-02-03T12:00:00Z');
    const before = await app.request('GET', '/api/fighting-fund');
    expect(before.body.raised).toBe(0);
    await giveOnline(app, { amount: 1234 });
    const after = await app.request('GET', '/api/fighting-fund');
    expect(after.body).toMatchObject({ campaign: { slug: '2027-02' }, raised: 1234, donationCount: 1 });
  });

  it('when a client sends the ETag back, then it gets 304 until the figures change', async () => {
    standIn(app, '2027-03-03T12:00:00Z');
    const first = await app.request('GET', '/api/fighting-fund');
    const etag = first.headers.get('etag')!;
    expect(etag).toBeTruthy();
    // fetch adds "Cache-Control: no-cache" to a conditional request unless told otherwise, as browsers' fetch does.
    const conditional = (tag: string) => ({ headers: { 'if-none-match': tag, 'cache-control': 'max-age=0' } });
    const again = await app.request('GET', '/api/fighting-fund', conditional(etag));
    expect(again.status).toBe(304);
    await giveOnline(app, { amount: 500 });
    const changed = await app.request('GET', '/api/fighting-fund', conditional(etag));
    expect(changed.status).toBe(200);
    expect(changed.body.raised).toBe(500);
  });

  it('when the clock moves to the deadline day and past it, then the countdown follows without waiting for the cache', async () => {
    standIn(app, '2027-04-29T12:00:00Z');
    expect((await app.request('GET', '/api/fighting-fund')).body.daysRemaining).toBe(2);
    app.clock.set('2027-04-30T22:00:00Z'); // 23:00 BST on 30 April
    const deadlineDay = await app.request('GET', '/api/fighting-fund');
    expect(deadlineDay.body).toMatchObject({ campaign: { slug: '2027-04' }, daysRemaining: 1 });
    app.clock.set('2027-04-30T23:00:00Z'); // 00:00 BST on 1 May
    const nextMonth = await app.request('GET', '/api/fighting-fund');
    expect(nextMonth.body).toMatchObject({ campaign: { slug: '2027-05' }, daysRemaining: 31 });
    const april = await app.request('GET', '/api/fighting-fund/2027-04');
    expect(april.body).toMatchObject({ campaign: { slug: '2027-04' }, daysRemaining: 0 });
  });

  it('when more than the target is raised, then remaining is 0 and percent goes past 100', async () => {
    standIn(app, '2027-06-05T12:00:00Z');
    await giveOnline(app, { amount: 2_000_000 });
    const res = await app.request('GET', '/api/fighting-fund');
    expect(res.body).toMatchObject({ raised: 2_000_000, remaining: 0, percent: 111.1 });
  });

  it('answers any campaign by slug, with the same shape', async () => {
    standIn(app, '2027-07-05T12:00:00Z');
    await giveOnline(app, { amount: 700 });
    standIn(app, '2027-08-05T12:00:00Z');
    const res = await app.request('GET', '/api/fighting-fund/2027-07');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ campaign: { slug: '2027-07', title: 'July 2027 fighting fund' }, raised: 700, daysRemaining: 0, donationCount: 1 });
    expect(Object.keys(res.body)).toEqual(['campaign', 'currency', 'target', 'raised', 'remaining', 'daysRemaining', 'percent', 'donationCount']);
  });

  it('when the slug is unknown, then 404 campaign_not_found and no campaign is created', async () => {
    const before = await fundTableCounts(app);
    const res = await app.request('GET', '/api/fighting-fund/2099-01');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'campaign_not_found', message: expect.any(String), details: { campaign: '2099-01' } } });
    expect(await fundTableCounts(app)).toEqual(before);
  });

  it('when the slug is malformed, then 400 invalid_request and nothing changes', async () => {
    const before = await fundTableCounts(app);
    for (const bad of ['Not_A_Slug', '-2026-11', 'x'.repeat(80), '%3Cscript%3E']) {
      const res = await app.request('GET', `/api/fighting-fund/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect(await fundTableCounts(app)).toEqual(before);
  });
});

describe('which campaign money counts toward', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
  });
  afterAll(() => app.close());

  it('when a payment started for November is given after its deadline, then it counts toward December', async () => {
    app.clock.set('2026-11-30T23:50:00Z');
    const november = await getCurrentCampaign({ ...app.deps });
    const given = new Date('2026-12-01T00:00:05Z');
    app.clock.set('2026-12-01T00:01:00Z');
    const { entry } = await giveOnline(app, { amount: 2500, givenAt: given, requestedCampaignId: november.id });
    const campaign = await app.db.selectFrom('campaigns').selectAll().where('id', '=', entry.campaign_id).executeTakeFirstOrThrow();
    expect(campaign.slug).toBe('2026-12');
    expect((await app.request('GET', '/api/fighting-fund/2026-11')).body.raised).toBe(0);
    expect((await app.request('GET', '/api/fighting-fund/2026-12')).body.raised).toBe(2500);
  });

  it('when a payment given before the deadline is confirmed after it, then it still counts toward the campaign it was given to', async () => {
    app.clock.set('2027-01-31T23:59:00Z');
    const january = await getCurrentCampaign({ ...app.deps });
    const given = app.clock.now();
    app.clock.set('2027-02-01T09:00:00Z');
    const { entry } = await giveOnline(app, { amount: 999, givenAt: given, requestedCampaignId: january.id });
    expect(entry.campaign_id).toBe(january.id);
  });

  it('when a refund arrives in a later month, then it is booked against the original payment’s campaign', async () => {
    app.clock.set('2027-03-10T12:00:00Z');
    const gift = await giveOnline(app, { amount: 4000 });
    app.clock.set('2027-04-10T12:00:00Z');
    const refund = await takeBack(app, { originalStripeKey: gift.entry.stripe_key!, amount: 1500 });
    expect(refund!.entry).toMatchObject({ campaign_id: gift.entry.campaign_id, amount: -1500, kind: 'refund', original_entry_id: gift.entry.id });
    expect((await app.request('GET', '/api/fighting-fund/2027-03')).body).toMatchObject({ raised: 2500, donationCount: 1 });
    expect((await app.request('GET', '/api/fighting-fund')).body).toMatchObject({ campaign: { slug: '2027-04' }, raised: 0 });
  });

  it('when a special campaign runs, then it is current and takes the gifts, and the month resumes after it', async () => {
    const slug = `appeal-${uid()}`;
    const campaign = await app.db
      .insertInto('campaigns')
      .values({
        slug,
        title: 'Printing press appeal',
        kind: 'special',
        target: 500_000,
        currency: 'GBP',
        starts_at: new Date('2027-05-10T00:00:00Z'),
        deadline: new Date('2027-05-20T22:59:59Z'),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    app.clock.set('2027-05-09T12:00:00Z');
    expect((await app.request('GET', '/api/fighting-fund')).body.campaign.slug).toBe('2027-05');
    app.clock.set('2027-05-12T12:00:00Z');
    const during = await app.request('GET', '/api/fighting-fund');
    expect(during.body).toMatchObject({ campaign: { slug, title: 'Printing press appeal' }, target: 500_000, daysRemaining: 9 });
    const { entry } = await giveOnline(app, { amount: 5000 });
    expect(entry.campaign_id).toBe(campaign.id);
    app.clock.set('2027-05-21T12:00:00Z');
    expect((await app.request('GET', '/api/fighting-fund')).body.campaign.slug).toBe('2027-05');
  });
});

describe('booking Stripe money into the ledger', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
  });
  afterAll(() => app.close());

  it('when the same payment is booked twice, then the second booking returns the first entry', async () => {
    const first = await giveOnline(app, { amount: 1500, stripeKey: 'payment:pi_twice' });
    const second = await giveOnline(app, { amount: 1500, stripeKey: 'payment:pi_twice' });
    expect(first.created).toBe(true);
    expect(second).toEqual({ entry: first.entry, created: false });
    const rows = await app.db.selectFrom('ledger_entries').select('id').where('stripe_key', '=', 'payment:pi_twice').execute();
    expect(rows).toHaveLength(1);
  });

  it('when two transactions book the same payment at the same moment, then exactly one entry exists', async () => {
    const key = `payment:pi_${uid()}`;
    const results = await Promise.all(Array.from({ length: 4 }, () => giveOnline(app, { amount: 800, stripeKey: key })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entry.id)).size).toBe(1);
    const { rows } = await sql<{ n: number }>`select count(*)::int8 as n from ledger_entries where stripe_key = ${key}`.execute(app.db);
    expect(rows[0]!.n).toBe(1);
  });

  it('when the same refund is booked twice, then it counts once', async () => {
    const gift = await giveOnline(app, { amount: 3000 });
    const refund = { originalStripeKey: gift.entry.stripe_key!, amount: 1000, stripeKey: `refund:re_${uid()}` };
    const one = await takeBack(app, refund);
    const two = await takeBack(app, refund);
    expect(one!.created).toBe(true);
    expect(two).toEqual({ entry: one!.entry, created: false });
  });

  it('when a refund arrives before its payment, then null is returned and nothing is booked', async () => {
    const before = await fundTableCounts(app);
    const result = await takeBack(app, { originalStripeKey: `payment:pi_${uid()}`, amount: 1000 });
    expect(result).toBeNull();
    expect((await fundTableCounts(app)).ledger).toBe(before.ledger);
  });

  it('when the donor did not ask to be acknowledged, then their name and town are not stored', async () => {
    const { entry } = await giveOnline(app, { amount: 1000, acknowledged: false, donorName: 'Private Person', donorTown: 'Hidden' });
    expect(entry).toMatchObject({ acknowledged: false });
    expect(await app.db.selectFrom('ledger_acknowledgements').selectAll().where('entry_id', '=', entry.id).execute()).toEqual([]);
  });

  it('refuses a non-positive or fractional amount before touching the database', async () => {
    for (const amount of [0, -100, 10.5]) {
      await expect(giveOnline(app, { amount })).rejects.toThrow(RangeError);
    }
  });
});

describe('the ledger is append-only and guarded by the database', () => {
  let app: TestApp;
  let entryId: number;
  let campaignId: string;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    const { entry } = await giveOnline(app, { amount: 4200 });
    entryId = entry.id;
    campaignId = entry.campaign_id;
  });
  afterAll(() => app.close());

  it('refuses UPDATE', async () => {
    await expect(sql`update ledger_entries set amount = 1 where id = ${entryId}`.execute(app.db)).rejects.toThrow(/append-only: UPDATE refused/);
  });

  it('refuses DELETE', async () => {
    await expect(sql`delete from ledger_entries where id = ${entryId}`.execute(app.db)).rejects.toThrow(/append-only: DELETE refused/);
  });

  it('refuses TRUNCATE', async () => {
    await expect(sql`truncate ledger_entries cascade`.execute(app.db)).rejects.toThrow(/append-only: TRUNCATE refused/);
    const row = await app.db.selectFrom('ledger_entries').select('amount').where('id', '=', entryId).executeTakeFirstOrThrow();
    expect(row.amount).toBe(4200);
  });

  it('refuses a zero amount, a negative donation and a positive refund', async () => {
    const base = { campaign_id: campaignId, currency: 'GBP', given_at: new Date(), source_ref: 'x' };
    await expect(app.db.insertInto('ledger_entries').values({ ...base, kind: 'offline_gift', method: 'cash', amount: 0 }).execute()).rejects.toThrow(/ledger_amount_not_zero/);
    await expect(app.db.insertInto('ledger_entries').values({ ...base, kind: 'online_donation', amount: -5 }).execute()).rejects.toThrow(/ledger_amount_sign_matches_kind/);
    await expect(app.db.insertInto('ledger_entries').values({ ...base, kind: 'refund', amount: 5, original_entry_id: entryId }).execute()).rejects.toThrow(/ledger_amount_sign_matches_kind/);
    const { rows } = await sql<{ n: number }>`select count(*)::int8 as n from ledger_entries`.execute(app.db);
    expect(rows[0]!.n).toBe(1);
  });

  it('refuses a second entry with the same stripe_key and a name without acknowledgement', async () => {
    const base = { campaign_id: campaignId, currency: 'GBP', given_at: new Date(), source_ref: 'pi_dup', kind: 'online_donation' as const, amount: 100 };
    await app.db.insertInto('ledger_entries').values({ ...base, stripe_key: 'payment:pi_dup' }).execute();
    await expect(app.db.insertInto('ledger_entries').values({ ...base, stripe_key: 'payment:pi_dup' }).execute()).rejects.toThrow(/duplicate key/);
    const unnamed = await app.db.insertInto('ledger_entries').values({ ...base, stripe_key: 'payment:pi_unnamed', acknowledged: false }).returning('id').executeTakeFirstOrThrow();
    await expect(app.db.insertInto('ledger_acknowledgements').values({ entry_id: unnamed.id, name: 'Leak', town: null }).execute()).rejects.toThrow(/foreign key/);
  });
});
