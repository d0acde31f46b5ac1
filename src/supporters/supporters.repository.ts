/** All SQL about supporters (one row per Stripe subscription we started). */
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { Supporter, SupporterInterval, SupporterPendingChange, SupporterStatus } from '../db/schema.js';

export interface NewSupporter {
  personId: string;
  email: string;
  name: string | null;
  acknowledge: boolean;
  amount: number;
  currency: string;
  interval: SupporterInterval;
  now: Date;
}

export function insertSupporter(db: Executor, s: NewSupporter): Promise<Supporter> {
  return db
    .insertInto('supporters')
    .values({
      person_id: s.personId,
      email: s.email,
      name: s.name,
      acknowledge: s.acknowledge,
      amount: s.amount,
      currency: s.currency,
      interval: s.interval,
      status: 'incomplete',
      created_at: s.now,
      updated_at: s.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findSupporter(db: Executor, id: string, options: { forUpdate?: boolean } = {}): Promise<Supporter | undefined> {
  const q = db.selectFrom('supporters').selectAll().where('id', '=', id);
  return (options.forUpdate ? q.forUpdate() : q).executeTakeFirst();
}

export function findSupporterBySubscription(db: Executor, subscriptionId: string, options: { forUpdate?: boolean } = {}): Promise<Supporter | undefined> {
  const q = db.selectFrom('supporters').selectAll().where('stripe_subscription_id', '=', subscriptionId);
  return (options.forUpdate ? q.forUpdate() : q).executeTakeFirst();
}

/** Statuses in which Stripe still takes (or tries to take) the supporter's money. */
export const LIVE_STATUSES: SupporterStatus[] = ['trialing', 'active', 'past_due', 'unpaid', 'paused'];

/** The person's subscriptions that are still running, newest first. */
export function liveSupportersOfPerson(db: Executor, personId: string): Promise<Supporter[]> {
  return db
    .selectFrom('supporters')
    .selectAll()
    .where('person_id', '=', personId)
    .where('status', 'in', LIVE_STATUSES)
    .orderBy('created_at', 'desc')
    .execute();
}

/** The subscription the account shows: the newest running one, else the newest that ever started. */
export function currentSupporterOfPerson(db: Executor, personId: string): Promise<Supporter | undefined> {
  return db
    .selectFrom('supporters')
    .selectAll()
    .where('person_id', '=', personId)
    .where('stripe_subscription_id', 'is not', null)
    .orderBy(sql`status in ('trialing', 'active', 'past_due', 'unpaid', 'paused')`, 'desc')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export function supportersOfPerson(db: Executor, personId: string): Promise<Supporter[]> {
  return db.selectFrom('supporters').selectAll().where('person_id', '=', personId).orderBy('created_at', 'desc').execute();
}

/** Links our row to its subscription and customer: ids are only filled in, never replaced. */
export async function linkSubscription(db: Executor, id: string, ids: { subscriptionId: string; customerId: string | null; now: Date }): Promise<Supporter | undefined> {
  return db
    .updateTable('supporters')
    .set((eb) => ({
      stripe_subscription_id: eb.fn.coalesce('stripe_subscription_id', eb.val(ids.subscriptionId)),
      stripe_customer_id: eb.fn.coalesce('stripe_customer_id', eb.val(ids.customerId)),
      updated_at: ids.now,
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export interface MirroredState {
  status: SupporterStatus;
  amount: number;
  interval: SupporterInterval;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  paused: boolean;
  itemId: string | null;
  productId: string | null;
  customerId: string | null;
  /** The Stripe `created` of the event (or the look-up) this state comes from. */
  stateAt: Date;
}

/** Writes the mirrored state; the caller has checked (under the row lock) that it is newer. */
export async function writeMirroredState(db: Executor, id: string, state: MirroredState, now: Date, clearPending: boolean): Promise<Supporter> {
  return db
    .updateTable('supporters')
    .set((eb) => ({
      status: state.status,
      amount: state.amount,
      interval: state.interval,
      current_period_end: state.currentPeriodEnd,
      cancel_at_period_end: state.cancelAtPeriodEnd,
      paused: state.paused,
      stripe_item_id: state.itemId,
      stripe_product_id: state.productId,
      stripe_customer_id: eb.fn.coalesce('stripe_customer_id', eb.val(state.customerId)),
      state_at: state.stateAt,
      started_at: state.status === 'active' ? eb.fn.coalesce('started_at', eb.val(state.stateAt)) : eb.ref('started_at'),
      ended_at: state.status === 'canceled' ? eb.fn.coalesce('ended_at', eb.val(state.stateAt)) : eb.ref('ended_at'),
      ...(clearPending ? { pending_change: null } : {}),
      updated_at: now,
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Marks a subscription checkout that was never completed. */
export async function markCheckoutAbandoned(db: Executor, id: string, now: Date): Promise<void> {
  await db.updateTable('supporters').set({ status: 'incomplete_expired', updated_at: now }).where('id', '=', id).where('status', '=', 'incomplete').where('state_at', 'is', null).execute();
}

/**
 * Records a change asked of Stripe (and counts it), unless the state we hold already shows it:
 * its webhook beat us here, so nothing is pending any more.
 */
export async function recordPendingChange(db: Executor, id: string, change: SupporterPendingChange, now: Date): Promise<void> {
  const current = await findSupporter(db, id, { forUpdate: true });
  if (!current) return;
  await db
    .updateTable('supporters')
    .set((eb) => ({
      pending_change: changeShown(current, change) ? null : JSON.stringify(change),
      change_count: eb('change_count', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', id)
    .execute();
}

/** Whether the mirrored state already shows every part of a change asked for. */
export function changeShown(s: Pick<Supporter, 'amount' | 'interval' | 'paused' | 'cancel_at_period_end'>, change: SupporterPendingChange): boolean {
  return (
    (change.amount === undefined || change.amount === s.amount) &&
    (change.interval === undefined || change.interval === s.interval) &&
    (change.pause === undefined || change.pause === s.paused) &&
    (change.cancel === undefined || change.cancel === s.cancel_at_period_end)
  );
}

export async function eraseSupportersOfPerson(db: Executor, personId: string, placeholderEmail: string): Promise<number> {
  const rows = await db
    .updateTable('supporters')
    .set({ email: placeholderEmail, name: null })
    .where('person_id', '=', personId)
    .returning('id')
    .execute();
  return rows.length;
}

/** The invoices paid on this person's subscriptions (their ledger entries' Stripe keys are derived from these). */
export async function paidInvoiceIdsOfPerson(db: Executor, personId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('checkout_payments as cp')
    .innerJoin('checkout_sessions as cs', 'cs.id', 'cp.checkout_id')
    .innerJoin('supporters as s', (join) => join.on(sql`s.id::text`, '=', sql`cs.record_id::text`))
    .select('cp.invoice_id')
    .where('cs.purpose', '=', 'supporter')
    .where('s.person_id', '=', personId)
    .execute();
  return rows.map((r) => r.invoice_id);
}

// ---- admin -------------------------------------------------------------------

export interface SupporterListQuery {
  status?: SupporterStatus | undefined;
  limit: number;
  offset: number;
}

export function listSupporters(db: Executor, q: SupporterListQuery): Promise<Supporter[]> {
  let query = db.selectFrom('supporters').selectAll().where('stripe_subscription_id', 'is not', null);
  if (q.status) query = query.where('status', '=', q.status);
  return query.orderBy('created_at', 'desc').orderBy('id').limit(q.limit).offset(q.offset).execute();
}

/** Subscriptions by status (those never started through Checkout are not counted). */
export async function countSupportersByStatus(db: Executor): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('supporters')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('stripe_subscription_id', 'is not', null)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Sums of the amounts of collecting subscriptions, by interval and currency. */
export async function recurringSums(db: Executor, statuses: SupporterStatus[]): Promise<{ interval: SupporterInterval; currency: string; total: number; count: number }[]> {
  const rows = await db
    .selectFrom('supporters')
    .select(['interval', 'currency', (eb) => eb.fn.sum<string>('amount').as('total'), (eb) => eb.fn.countAll<string>().as('n')])
    .where('status', 'in', statuses)
    .where('paused', '=', false)
    .groupBy(['interval', 'currency'])
    .execute();
  return rows.map((r) => ({ interval: r.interval, currency: r.currency.trim(), total: Number(r.total), count: Number(r.n) }));
}

/** Every started subscription, oldest first, a page at a time (the CSV export). */
export function supportersPage(db: Executor, after: { createdAt: Date; id: string } | null, limit: number): Promise<Supporter[]> {
  let q = db.selectFrom('supporters').selectAll().where('stripe_subscription_id', 'is not', null);
  if (after) {
    q = q.where((eb) => eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]));
  }
  return q.orderBy('created_at').orderBy('id').limit(limit).execute();
}

// ---- one-click links ---------------------------------------------------------

/** true when this link id had not been used (and now is). */
export async function useSignedLink(db: Executor, use: { jti: string; subjectId: string; action: string; usedAt: Date }): Promise<boolean> {
  const row = await db
    .insertInto('signed_link_uses')
    .values({ jti: use.jti, subject_id: use.subjectId, action: use.action, used_at: use.usedAt })
    .onConflict((oc) => oc.doNothing())
    .returning('jti')
    .executeTakeFirst();
  return Boolean(row);
}

export async function signedLinkUsed(db: Executor, jti: string): Promise<boolean> {
  return Boolean(await db.selectFrom('signed_link_uses').select('jti').where('jti', '=', jti).executeTakeFirst());
}

/** Gives a link back when the change it asked for did not happen. */
export async function unuseSignedLink(db: Executor, jti: string): Promise<void> {
  await db.deleteFrom('signed_link_uses').where('jti', '=', jti).execute();
}
