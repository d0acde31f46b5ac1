/**
 * SQL of reconciliation: what our books hold under Stripe's ids (the ledger, the
 * share transactions and the money given back on share payments, all keyed by
 * 'payment:pi_..', 'refund:re_..', 'dispute:dp_..'), which checkouts are ours,
 * and the runs kept for the Today page. Read-only over the other components'
 * tables, written only to reconciliation_runs.
 */
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { ReconciliationOutcome, ReconciliationRun, ReconciliationTrigger } from '../db/schema.js';

export interface BookedMoney {
  key: string;
  /** Signed pence as booked. */
  amount: number;
  where: 'ledger' | 'shares' | 'share_returns';
  at: Date;
}

/** Bookings under these Stripe keys, wherever they are. */
export async function bookingsByKeys(db: Executor, keys: string[]): Promise<BookedMoney[]> {
  if (keys.length === 0) return [];
  const { rows } = await sql<BookedMoney>`
    select stripe_key as key, amount, 'ledger' as "where", given_at as at from ledger_entries where stripe_key = any(${keys}::text[])
    union all
    select stripe_key, amount, 'shares', recorded_at from share_transactions where stripe_key = any(${keys}::text[])
    union all
    select stripe_key, -amount, 'share_returns', returned_at from share_payment_returns where stripe_key = any(${keys}::text[])`.execute(db);
  return rows;
}

/** Bookings made from Stripe money in [from, to): what Stripe should also hold. */
export async function stripeBookingsBetween(db: Executor, from: Date, to: Date): Promise<BookedMoney[]> {
  const { rows } = await sql<BookedMoney>`
    select stripe_key as key, amount, 'ledger' as "where", given_at as at from ledger_entries
     where stripe_key is not null and stripe_key not like 'invoice:%' and given_at >= ${from} and given_at < ${to}
    union all
    select stripe_key, amount, 'shares', recorded_at from share_transactions
     where stripe_key is not null and recorded_at >= ${from} and recorded_at < ${to}
    union all
    select stripe_key, -amount, 'share_returns', returned_at from share_payment_returns
     where returned_at >= ${from} and returned_at < ${to}`.execute(db);
  return rows;
}

export interface OurCheckout {
  id: string;
  purpose: string;
  record_id: string;
  stripe_session_id: string | null;
  payment_intent_id: string | null;
}

/** Our checkouts for these PaymentIntents or checkout ids (from the charges' metadata). */
export async function findCheckouts(db: Executor, paymentIntentIds: string[], checkoutIds: string[]): Promise<OurCheckout[]> {
  const uuids = checkoutIds.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
  if (paymentIntentIds.length === 0 && uuids.length === 0) return [];
  return db
    .selectFrom('checkout_sessions')
    .select(['id', 'purpose', 'record_id', 'stripe_session_id', 'payment_intent_id'])
    .where((eb) =>
      eb.or([
        ...(paymentIntentIds.length ? [eb('payment_intent_id', 'in', paymentIntentIds)] : []),
        ...(uuids.length ? [eb('id', 'in', uuids)] : []),
      ]),
    )
    .execute();
}

/** Share applications whose payment was refused (and so refunded) rather than booked. */
export async function refusedSharePayments(db: Executor, paymentIntentIds: string[]): Promise<Set<string>> {
  if (paymentIntentIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('share_applications')
    .select('payment_intent_id')
    .where('payment_intent_id', 'in', paymentIntentIds)
    .where('status', '=', 'refused')
    .execute();
  return new Set(rows.map((r) => r.payment_intent_id!));
}

export async function insertRun(
  db: Executor,
  run: { from: string; to: string; at: Date; trigger: ReconciliationTrigger; actorId: string | null; outcome: ReconciliationOutcome; differences: number; summary: unknown; error?: string | null },
): Promise<ReconciliationRun> {
  return db
    .insertInto('reconciliation_runs')
    .values({
      period_from: run.from,
      period_to: run.to,
      started_at: run.at,
      trigger: run.trigger,
      actor_id: run.actorId,
      outcome: run.outcome,
      differences: run.differences,
      summary: JSON.stringify(run.summary),
      error: run.error ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Runs since `since` that found something, unless a later run of the same period came out clean. */
export async function countUnresolvedRuns(db: Executor, since: Date): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int8 as n from reconciliation_runs r
     where r.started_at >= ${since} and r.outcome <> 'clean'
       and not exists (select 1 from reconciliation_runs c where c.outcome = 'clean' and c.period_from <= r.period_from
                          and c.period_to >= r.period_to and c.id > r.id)`.execute(db);
  return rows[0]?.n ?? 0;
}

export async function latestRuns(db: Executor, limit: number): Promise<ReconciliationRun[]> {
  return db.selectFrom('reconciliation_runs').selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** Where the alert goes: the treasurers, else the admins. */
export async function treasurerAddresses(db: Executor): Promise<{ id: string; email: string }[]> {
  const { rows } = await sql<{ id: string; email: string; roles: string[] }>`
    select id, email, roles from people where erased_at is null and roles && array['treasurer', 'admin']::text[] order by email`.execute(db);
  const treasurers = rows.filter((r) => r.roles.includes('treasurer'));
  return (treasurers.length ? treasurers : rows).map(({ id, email }) => ({ id, email }));
}
