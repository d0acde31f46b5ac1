/**
 * Every change to the register of members goes through here: admitting a member
 * (the number drawn from the sequence) and moving a holding only through share
 * transactions; a member whose holding reaches zero ceases.
 */
import type { Insertable } from 'kysely';
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { Member, ShareApplication, ShareTransaction, ShareTransactionsTable } from '../db/schema.js';
import { findMember, insertMember, insertShareTransaction, markMemberCeased } from './register.repository.js';
import { rejectOpenWithdrawals } from './withdrawals.repository.js';

/** Enters the applicant in the register; the number is drawn from the sequence. */
export async function admitMember(trx: Executor, application: ShareApplication, admittedOn: string, now: Date): Promise<Member> {
  return insertMember(trx, {
    person_id: application.person_id,
    kind: application.applicant_kind,
    name: application.name,
    address_line1: application.address_line1,
    address_line2: application.address_line2,
    town: application.town,
    postcode: application.postcode,
    country: application.country,
    email: application.email,
    registered_society: application.registered_society,
    admitted_on: admittedOn,
    currency: application.currency,
    created_at: now,
    updated_at: now,
  });
}

/**
 * Appends a share transaction (the database moves the holding with it) and, when the
 * holding reaches zero, records the member's cessation. Undefined when the
 * transaction's Stripe key was already applied.
 */
export async function appendShareTransaction(
  deps: Pick<AppDeps, 'clock' | 'logger'>,
  trx: Executor,
  actor: Actor,
  values: Insertable<ShareTransactionsTable>,
): Promise<{ transaction: ShareTransaction; member: Member } | undefined> {
  const transaction = await insertShareTransaction(trx, values);
  if (!transaction) return undefined;
  let member = (await findMember(trx, transaction.member_id))!;
  if (member.shares_held === 0 && !member.ceased_on) {
    member = await ceaseMember(deps, trx, actor, member, transaction.effective_on);
  }
  return { transaction, member };
}

async function ceaseMember(deps: Pick<AppDeps, 'clock' | 'logger'>, trx: Executor, actor: Actor, member: Member, on: string): Promise<Member> {
  const now = deps.clock.now();
  // A reversal dated before admission (a refund of the very payment that admitted them) ceases on admission day.
  const ceasedOn = on < member.admitted_on ? member.admitted_on : on;
  const ceased = await markMemberCeased(trx, member.id, ceasedOn, now);
  const closed = await rejectOpenWithdrawals(trx, member.id, 'Closed: the member ceased to hold shares.', now);
  await recordAudit(trx, deps.clock, actor, {
    action: 'member.ceased',
    subjectType: 'member',
    subjectId: String(member.number),
    before: { ceasedOn: null, sharesHeld: 0 },
    after: { ceasedOn, closedWithdrawals: closed.map((w) => w.id) },
  });
  deps.logger.info({ memberNumber: member.number, ceasedOn }, 'member ceased: holding reached zero');
  return ceased;
}
