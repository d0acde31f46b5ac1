/** SQL for the register of members and the append-only share transactions. */
import { sql, type Insertable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { Member, MembersTable, ShareTransaction, ShareTransactionsTable } from '../db/schema.js';

export async function findCurrentMemberForPerson(
  db: Executor,
  personId: string,
  options: { forUpdate?: boolean } = {},
): Promise<Member | undefined> {
  let q = db.selectFrom('members').selectAll().where('person_id', '=', personId).where('ceased_on', 'is', null);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Every membership the person has held, newest first (a former member may have rejoined). */
export async function listMembershipsForPerson(db: Executor, personId: string): Promise<Member[]> {
  return db.selectFrom('members').selectAll().where('person_id', '=', personId).orderBy('number', 'desc').execute();
}

export async function findMember(db: Executor, id: string, options: { forUpdate?: boolean } = {}): Promise<Member | undefined> {
  let q = db.selectFrom('members').selectAll().where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Admits a member; the number comes from member_number_seq (never reused, even if this transaction rolls back). */
export async function insertMember(
  db: Executor,
  values: Omit<Insertable<MembersTable>, 'number' | 'shares_held' | 'amount_paid'>,
): Promise<Member> {
  return db.insertInto('members').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function updateMemberDetails(
  db: Executor,
  id: string,
  patch: Partial<Pick<Member, 'name' | 'address_line1' | 'address_line2' | 'town' | 'postcode' | 'country' | 'email'>>,
  now: Date,
): Promise<Member> {
  return db.updateTable('members').set({ ...patch, updated_at: now }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function markMemberCeased(db: Executor, id: string, ceasedOn: string, now: Date): Promise<Member> {
  return db
    .updateTable('members')
    .set({ ceased_on: ceasedOn, updated_at: now })
    .where('id', '=', id)
    .where('ceased_on', 'is', null)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Appends a share transaction (the trigger moves the member's holding with it).
 * Undefined when its Stripe key was already applied.
 */
export async function insertShareTransaction(
  db: Executor,
  values: Insertable<ShareTransactionsTable>,
): Promise<ShareTransaction | undefined> {
  let q = db.insertInto('share_transactions').values(values);
  if (values.stripe_key) q = q.onConflict((oc) => oc.column('stripe_key').doNothing());
  return q.returningAll().executeTakeFirst();
}

export async function findAllotmentForApplication(db: Executor, applicationId: string): Promise<ShareTransaction | undefined> {
  return db
    .selectFrom('share_transactions')
    .selectAll()
    .where('application_id', '=', applicationId)
    .where('kind', '=', 'allotment')
    .orderBy('id')
    .executeTakeFirst();
}

/** What reversals have taken back from one allotment so far, as positive magnitudes. */
export async function sumReversalsOf(db: Executor, transactionId: number): Promise<{ shares: number; amount: number }> {
  const row = await db
    .selectFrom('share_transactions')
    .select([sql<number>`coalesce(-sum(shares), 0)::int8`.as('shares'), sql<number>`coalesce(-sum(amount), 0)::int8`.as('amount')])
    .where('reverses_transaction_id', '=', transactionId)
    .executeTakeFirstOrThrow();
  return { shares: row.shares, amount: row.amount };
}

export async function listTransactionsForMembers(db: Executor, memberIds: string[]): Promise<(ShareTransaction & { member_number: number })[]> {
  if (memberIds.length === 0) return [];
  return db
    .selectFrom('share_transactions as t')
    .innerJoin('members as m', 'm.id', 't.member_id')
    .selectAll('t')
    .select('m.number as member_number')
    .where('t.member_id', 'in', memberIds)
    .orderBy('t.effective_on')
    .orderBy('t.id')
    .execute();
}

/** One page of the register in member-number order, after `afterNumber` (keyset paging keeps memory flat). */
export async function registerPage(db: Executor, afterNumber: number, limit: number): Promise<Member[]> {
  return db.selectFrom('members').selectAll().where('number', '>', afterNumber).orderBy('number').limit(limit).execute();
}

export interface MemberSearch {
  query?: string;
  limit: number;
  offset: number;
}

/** Members whose name or email contains the query, or whose number or postcode is it; in number order. */
export async function searchMembers(db: Executor, search: MemberSearch): Promise<{ rows: Member[]; total: number }> {
  let q = db.selectFrom('members');
  const query = search.query?.trim();
  if (query) {
    const like = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const postcode = query.replace(/\s+/g, '').toUpperCase();
    const number = /^\d{1,15}$/.test(query) ? Number(query) : null;
    // All digits: a member number (or a numeric postcode), not any email that happens to contain them.
    q = q.where((eb) =>
      eb.or([
        eb(sql`upper(replace(postcode, ' ', ''))`, '=', postcode),
        ...(number === null ? [eb('name', 'ilike', like), eb('email', 'ilike', like)] : [eb('number', '=', number)]),
      ]),
    );
  }
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('number').limit(search.limit).offset(search.offset).execute(),
    q.select(sql<number>`count(*)::int8`.as('total')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: count.total };
}
