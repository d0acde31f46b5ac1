/** SQL for share applications and the money Stripe gave back on their payments. */
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { SharePaymentReturn, ShareApplication, ShareApplicationsTable, SharePaymentReturnsTable } from '../db/schema.js';

/** Statuses of applications whose money may still arrive: they count toward the holding cap. */
export const AWAITING_PAYMENT = ['pending', 'processing'] as const;

/**
 * Serialises everything that reads or changes one person's holding (new applications,
 * allotments) until the transaction ends, so two of them cannot both fit under the cap.
 */
export async function lockPersonHolding(db: Executor, personId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${'shares:holding:' + personId}, 0))`.execute(db);
}

export async function insertApplication(db: Executor, values: Insertable<ShareApplicationsTable>): Promise<ShareApplication> {
  return db.insertInto('share_applications').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function findApplication(db: Executor, id: string, options: { forUpdate?: boolean } = {}): Promise<ShareApplication | undefined> {
  let q = db.selectFrom('share_applications').selectAll().where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function updateApplication(
  db: Executor,
  id: string,
  patch: Updateable<ShareApplicationsTable>,
): Promise<ShareApplication> {
  return db.updateTable('share_applications').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Pence applied for by this person and still awaiting payment (other than `exceptId`). */
export async function sumAwaitingPayment(db: Executor, personId: string, exceptId?: string): Promise<number> {
  let q = db
    .selectFrom('share_applications')
    .select(sql<number>`coalesce(sum(amount), 0)::int8`.as('total'))
    .where('person_id', '=', personId)
    .where('status', 'in', AWAITING_PAYMENT);
  if (exceptId) q = q.where('id', '<>', exceptId);
  const row = await q.executeTakeFirstOrThrow();
  return row.total;
}

export async function listApplicationsForPerson(db: Executor, personId: string, statuses?: readonly ShareApplication['status'][]) {
  let q = db.selectFrom('share_applications').selectAll().where('person_id', '=', personId).orderBy('created_at', 'desc');
  if (statuses) q = q.where('status', 'in', statuses);
  return q.execute();
}

/**
 * Applications left pending since before `createdBefore` (their checkout never opened,
 * or Stripe's own expiry was missed) stop counting toward the cap.
 */
export async function expirePendingCreatedBefore(db: Executor, createdBefore: Date, now: Date): Promise<string[]> {
  const rows = await db
    .updateTable('share_applications')
    .set({ status: 'expired', updated_at: now })
    .where('status', '=', 'pending')
    .where('created_at', '<', createdBefore)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/** Records money given back once per Stripe object; undefined when it was already recorded. */
export async function insertPaymentReturn(
  db: Executor,
  values: Insertable<SharePaymentReturnsTable>,
): Promise<SharePaymentReturn | undefined> {
  return db
    .insertInto('share_payment_returns')
    .values(values)
    .onConflict((oc) => oc.column('stripe_key').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function sumPaymentReturns(db: Executor, applicationId: string): Promise<number> {
  const row = await db
    .selectFrom('share_payment_returns')
    .select(sql<number>`coalesce(sum(amount), 0)::int8`.as('total'))
    .where('application_id', '=', applicationId)
    .executeTakeFirstOrThrow();
  return row.total;
}

export async function listPaymentReturns(db: Executor, applicationId: string): Promise<SharePaymentReturn[]> {
  return db.selectFrom('share_payment_returns').selectAll().where('application_id', '=', applicationId).orderBy('id').execute();
}
