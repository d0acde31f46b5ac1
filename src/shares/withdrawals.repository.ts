/** SQL for members' requests to withdraw shares. */
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { ShareWithdrawal, ShareWithdrawalStatus, ShareWithdrawalsTable } from '../db/schema.js';

/** Requests that still claim shares: not yet paid, and not rejected. */
export const OPEN_WITHDRAWAL_STATUSES = ['requested', 'approved', 'deferred'] as const satisfies readonly ShareWithdrawalStatus[];

export type WithdrawalRow = ShareWithdrawal & { member_number: number; member_name: string };

export async function insertWithdrawal(db: Executor, values: Insertable<ShareWithdrawalsTable>): Promise<ShareWithdrawal> {
  return db.insertInto('share_withdrawals').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function findWithdrawal(db: Executor, id: string, options: { forUpdate?: boolean } = {}): Promise<ShareWithdrawal | undefined> {
  let q = db.selectFrom('share_withdrawals').selectAll().where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function updateWithdrawal(db: Executor, id: string, patch: Updateable<ShareWithdrawalsTable>): Promise<ShareWithdrawal> {
  return db.updateTable('share_withdrawals').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function sumOpenWithdrawals(db: Executor, memberId: string): Promise<number> {
  const row = await db
    .selectFrom('share_withdrawals')
    .select(sql<number>`coalesce(sum(shares), 0)::int8`.as('total'))
    .where('member_id', '=', memberId)
    .where('status', 'in', OPEN_WITHDRAWAL_STATUSES)
    .executeTakeFirstOrThrow();
  return row.total;
}

function withMember(db: Executor) {
  return db
    .selectFrom('share_withdrawals as w')
    .innerJoin('members as m', 'm.id', 'w.member_id')
    .selectAll('w')
    .select(['m.number as member_number', 'm.name as member_name']);
}

export async function findWithdrawalWithMember(db: Executor, id: string): Promise<WithdrawalRow | undefined> {
  return withMember(db).where('w.id', '=', id).executeTakeFirst();
}

export async function listWithdrawals(db: Executor, filter: { status?: ShareWithdrawalStatus; limit: number }): Promise<WithdrawalRow[]> {
  let q = withMember(db).orderBy('w.requested_at').orderBy('w.id').limit(filter.limit);
  if (filter.status) q = q.where('w.status', '=', filter.status);
  return q.execute();
}

export async function listWithdrawalsForMembers(db: Executor, memberIds: string[]): Promise<WithdrawalRow[]> {
  if (memberIds.length === 0) return [];
  return withMember(db).where('w.member_id', 'in', memberIds).orderBy('w.requested_at', 'desc').execute();
}

/** Closes the open requests of a member who has ceased: there is nothing left to pay them from. */
export async function rejectOpenWithdrawals(db: Executor, memberId: string, note: string, now: Date): Promise<ShareWithdrawal[]> {
  return db
    .updateTable('share_withdrawals')
    .set({ status: 'rejected', note, decided_at: now, updated_at: now })
    .where('member_id', '=', memberId)
    .where('status', 'in', OPEN_WITHDRAWAL_STATUSES)
    .returningAll()
    .execute();
}
