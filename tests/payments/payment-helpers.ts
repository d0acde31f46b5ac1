/** Shared steps of the payments and donations tests. */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { TestApp } from '../support/test-app.js';

export const uniqueEmail = (label = 'donor') => `${label}-${randomBytes(5).toString('hex')}@example.org`;

export interface StartedDonation {
  donationId: string;
  checkoutUrl: string;
  sessionId: string;
  amount: number;
}

/** POST /api/donations, expecting 201. */
export async function startDonation(app: TestApp, body: Record<string, unknown> = {}): Promise<StartedDonation> {
  const amount = (body.amount as number | undefined) ?? 1000;
  const res = await app.request('POST', '/api/donations', { json: { amount, email: uniqueEmail(), ...body } });
  expect(res.status, res.text).toBe(201);
  return { donationId: res.body.id, checkoutUrl: res.body.checkoutUrl, sessionId: app.stripe.sessionIdOf(res.body.checkoutUrl), amount };
}

/** Rows in the tables a request could touch: compared before and after to prove nothing changed. */
export async function rowCounts(app: TestApp): Promise<Record<string, number>> {
  const tables = ['donations', 'checkout_sessions', 'people', 'ledger_entries', 'stripe_events', 'stripe_event_results', 'stripe_event_failures'];
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(t)}`.execute(app.db);
    counts[t] = r.rows[0]!.n;
  }
  return counts;
}

/** The ledger entries booked from a donation, oldest first. */
export function ledgerOf(app: TestApp, donationId: string) {
  return app.db
    .selectFrom('ledger_entries as e')
    .leftJoin('ledger_acknowledgements as a', 'a.entry_id', 'e.id')
    .select(['e.kind', 'e.amount', 'e.stripe_key', 'e.source_ref', 'e.acknowledged', 'a.name as donor_name', 'a.town as donor_town', 'e.given_at', 'e.campaign_id'])
    .where('e.donation_id', '=', donationId)
    .orderBy('e.id')
    .execute();
}

export async function ledgerTotal(app: TestApp, donationId: string): Promise<number> {
  return (await ledgerOf(app, donationId)).reduce((sum, e) => sum + e.amount, 0);
}

export function donationRow(app: TestApp, donationId: string) {
  return app.db.selectFrom('donations').selectAll().where('id', '=', donationId).executeTakeFirstOrThrow();
}

export function eventResult(app: TestApp, eventId: string) {
  return app.db.selectFrom('stripe_event_results').selectAll().where('event_id', '=', eventId).executeTakeFirst();
}
