/** SQL for the board's view of one member: found by number, with the person behind the entry. */
import type { Executor } from '../db/database.js';
import type { Member } from '../db/schema.js';

export async function findMemberByNumber(db: Executor, number: number, options: { forUpdate?: boolean } = {}): Promise<Member | undefined> {
  let q = db.selectFrom('members').selectAll().where('number', '=', number);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** The address a member's notices go to: the register's email for notices, else their sign-in address. */
export async function noticeAddressOfMember(db: Executor, memberId: string): Promise<{ email: string | null; personId: string; name: string; number: number } | undefined> {
  return db
    .selectFrom('members as m')
    .innerJoin('people as p', 'p.id', 'm.person_id')
    .select(['m.name', 'm.number', 'm.person_id as personId'])
    .select((eb) => eb.fn.coalesce('m.email', 'p.email').as('email'))
    .where('m.id', '=', memberId)
    .executeTakeFirst();
}
