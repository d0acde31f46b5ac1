/** SQL for share applications and the money Stripe gave back on their payments. */
import { sql, type ExpressionBuilder, type Insertable, type Updateable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { DB, SharePaymentReturn, ShareApplication, ShareApplicationsTable, SharePaymentReturnsTable } from '../db/schema.js';

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
/**
 * The room under the cap held by the person's own applications awaiting payment: only those
 * made signed in as the address (holds_room). A stranger's unpaid application holds nothing.
 */
export async function sumAwaitingPayment(db: Executor, personId: string, exceptId?: string): Promise<number> {
  let q = db
    .selectFrom('share_applications')
    .select(sql<number>`coalesce(sum(amount), 0)::int8`.as('total'))
    .where('person_id', '=', personId)
    .where('holds_room', '=', true)
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

/** What an erased applicant's name and address read as: the columns stay NOT NULL. */
export const ERASED_TEXT = '[erased]';

/**
 * Erases the applicant's details on every application of the person not erased yet:
 * everything personal on applications that never led to an allotment; only the date of
 * birth and email on those that did (their name and address are the record the register
 * entry was made from, and the register must be kept). Amounts, statuses and Stripe
 * references stay: they are accounting records. Counts each kind.
 */
export async function eraseApplicantDetails(
  db: Executor,
  personId: string,
  placeholderEmail: string,
  now: Date,
): Promise<{ withoutMembership: number; withMembership: number }> {
  const allotted = (eb: ExpressionBuilder<DB, 'share_applications'>) =>
    eb.exists(
      eb
        .selectFrom('share_transactions as t')
        .select('t.id')
        .whereRef('t.application_id', '=', 'share_applications.id')
        .where('t.kind', '=', 'allotment'),
    );
  const withoutMembership = await db
    .updateTable('share_applications')
    .set({
      name: ERASED_TEXT,
      email: placeholderEmail,
      address_line1: ERASED_TEXT,
      address_line2: null,
      town: ERASED_TEXT,
      postcode: ERASED_TEXT,
      country: ERASED_TEXT,
      date_of_birth: null,
      erased_at: now,
      updated_at: now,
    })
    .where('person_id', '=', personId)
    .where('erased_at', 'is', null)
    .where((eb) => eb.not(allotted(eb)))
    .executeTakeFirst();
  const withMembership = await db
    .updateTable('share_applications')
    .set({ email: placeholderEmail, date_of_birth: null, erased_at: now, updated_at: now })
    .where('person_id', '=', personId)
    .where('erased_at', 'is', null)
    .where((eb) => allotted(eb))
    .executeTakeFirst();
  return { withoutMembership: Number(withoutMembership.numUpdatedRows), withMembership: Number(withMembership.numUpdatedRows) };
}
