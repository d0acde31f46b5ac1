/**
 * The running totals per campaign (campaign_totals, kept by a trigger in each
 * booking's transaction) always equal the ledger's own sums, whatever mix of
 * bookings, refunds, disputes, offline gifts and reversals, concurrent or rolled back.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { giveOnline, takeBack, uid } from './fund-helpers.js';

describe('running totals per campaign', () => {
  let app: TestApp;
  let headers: Record<string, string>;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    ({ headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] }));
  });
  afterAll(() => app.close());

  /** Per campaign: the totals table's figures and the ledger's own sums, side by side. */
  const compare = async () =>
    (
      await sql<{ campaign_id: string; kept_raised: number; kept_count: number; ledger_raised: number; ledger_count: number }>`
        select c.id as campaign_id,
               coalesce((select sum(raised) from campaign_totals t where t.campaign_id = c.id), 0)::int8 as kept_raised,
               coalesce((select sum(donation_count) from campaign_totals t where t.campaign_id = c.id), 0)::int8 as kept_count,
               coalesce((select sum(amount) from ledger_entries e where e.campaign_id = c.id), 0)::int8 as ledger_raised,
               coalesce((select count(*) filter (where kind in ('online_donation', 'supporter_payment', 'offline_gift'))
                                - count(*) filter (where kind = 'correction') from ledger_entries e where e.campaign_id = c.id), 0)::int8 as ledger_count
          from campaigns c order by c.slug`.execute(app.db)
    ).rows;

  it('when many gifts, refunds, disputes, offline gifts and reversals are booked, some at once and one rolled back, then the totals equal the ledger sums', async () => {
    // Online gifts, twenty at the same moment.
    const gifts = await Promise.all(Array.from({ length: 20 }, (_, i) => giveOnline(app, { amount: 1000 + i })));
    // Refunds, a dispute lost and one won, against some of them.
    for (const [i, g] of gifts.slice(0, 6).entries()) {
      const key = g.entry.stripe_key!;
      if (i < 3) await takeBack(app, { originalStripeKey: key, amount: 250 });
      else if (i === 3) await takeBack(app, { originalStripeKey: key, amount: g.entry.amount, kind: 'dispute' });
      else {
        const dp = `dp_${uid()}`;
        await takeBack(app, { originalStripeKey: key, amount: g.entry.amount, kind: 'dispute', stripeKey: `dispute:${dp}`, sourceRef: dp });
        await takeBack(app, { originalStripeKey: key, amount: g.entry.amount, kind: 'dispute_won', stripeKey: `dispute_won:${dp}`, sourceRef: dp });
      }
    }
    // Offline gifts in this month and the last, one of them reversed.
    const offline = [];
    for (const givenAt of ['2026-11-18T09:00:00Z', '2026-10-12T09:00:00Z', '2026-11-19T09:00:00Z']) {
      const res = await app.request('POST', '/api/admin/ledger', { headers, json: { amount: 3000, method: 'cheque', reference: `cheque ${uid()}`, givenAt } });
      expect(res.status).toBe(201);
      offline.push(res.body as { id: number });
    }
    const reversed = await app.request('POST', `/api/admin/ledger/${offline[0]!.id}/reverse`, { headers, json: { reason: 'cheque bounced' } });
    expect(reversed.status).toBe(201);
    // A booking whose transaction rolls back leaves no trace in the totals either.
    await app.db
      .transaction()
      .execute(async (trx) => {
        await sql`insert into ledger_entries (campaign_id, kind, method, amount, currency, given_at, source_ref)
                  select id, 'offline_gift', 'cash', 777, currency, starts_at, 'rolled back' from campaigns where slug = '2026-11'`.execute(trx);
        throw new Error('roll back');
      })
      .catch(() => undefined);

    const rows = await compare();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const r of rows) {
      expect({ raised: r.kept_raised, count: r.kept_count }, r.campaign_id).toEqual({ raised: r.ledger_raised, count: r.ledger_count });
    }
    // And the fund says the same.
    const november = rows.find((r) => r.ledger_raised !== 0 && r.campaign_id === (gifts[0]!.entry.campaign_id))!;
    const fund = await app.request('GET', '/api/fighting-fund/2026-11');
    expect(fund.body).toMatchObject({ raised: november.ledger_raised, donationCount: november.ledger_count });
    // 20 gifts + 2 November cheques, one reversed; 20,190 in, 750 refunded, one lost dispute, 6,000 by cheque less 3,000 reversed.
    expect(fund.body).toMatchObject({ donationCount: 21, raised: 20_190 - 750 - gifts[3]!.entry.amount + 6000 - 3000 });
  });

  it('when 10,000 entries are inserted by one statement, then the totals follow in the same statement', async () => {
    await sql`
      insert into ledger_entries (campaign_id, kind, method, amount, currency, given_at, source_ref)
      select c.id, 'offline_gift', 'cash', 100 + (g % 50), c.currency, c.starts_at + interval '1 second' * g, 'bulk-' || g
        from campaigns c, generate_series(1, 10000) g where c.slug = '2026-11'`.execute(app.db);
    for (const r of await compare()) expect([r.kept_raised, r.kept_count]).toEqual([r.ledger_raised, r.ledger_count]);
  });
});
