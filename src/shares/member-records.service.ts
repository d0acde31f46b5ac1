/**
 * The board's view of one member (the register entry, the holding, every share
 * transaction and withdrawal) and changes to the entry that arrive by letter: a
 * new name or postal address, for a person or an organisation. The register is
 * the record the law requires, so the change is made there and audited with the
 * names of the fields that changed (not their values).
 */
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { Member } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import type { SharesErrorCode } from './shares.errors.js';
import { findMemberByNumber } from './member-records.repository.js';
import { listTransactionsForMembers, updateMemberDetails } from './register.repository.js';
import { memberView, withdrawalView, type MemberView, type WithdrawalView } from './register.views.js';
import { listWithdrawalsForMembers } from './withdrawals.repository.js';

type RecordDeps = Pick<AppDeps, 'config' | 'clock' | 'db'>;

const memberNotFound = (number: number) => new AppError<SharesErrorCode>({ code: 'member_not_found', status: 404, message: `There is no member number ${number}.` });

export interface MemberRecord {
  member: MemberView;
  transactions: { id: number; kind: string; shares: number; amount: number; currency: string; effectiveOn: string; note: string | null }[];
  withdrawals: WithdrawalView[];
}

export async function memberRecord(deps: RecordDeps, number: number): Promise<MemberRecord> {
  const member = await findMemberByNumber(deps.db, number);
  if (!member) throw memberNotFound(number);
  const [transactions, withdrawals] = await Promise.all([listTransactionsForMembers(deps.db, [member.id]), listWithdrawalsForMembers(deps.db, [member.id])]);
  return {
    member: memberView(member),
    transactions: transactions.map((t) => ({
      id: t.id,
      kind: t.kind,
      shares: t.shares,
      amount: t.amount,
      currency: t.currency.trim(),
      effectiveOn: t.effective_on,
      note: t.note,
    })),
    withdrawals: withdrawals.map(withdrawalView),
  };
}

export interface RegisterEntryChange {
  name?: string | undefined;
  address?: { line1: string; line2?: string | undefined; town: string; postcode: string; country: string } | undefined;
  /** Where the change came from, for the audit log: "letter of 12 November". */
  source: string;
}

/**
 * Records a change of name or address received by letter in the register entry,
 * audited as 'member.details_changed' with the names of the fields changed.
 */
export async function changeRegisterEntry(deps: RecordDeps, actor: Actor, number: number, change: RegisterEntryChange): Promise<MemberView> {
  return deps.db.transaction().execute(async (trx) => {
    const member = await findMemberByNumber(trx, number, { forUpdate: true });
    if (!member) throw memberNotFound(number);
    const patch: Partial<Pick<Member, 'name' | 'address_line1' | 'address_line2' | 'town' | 'postcode' | 'country'>> = {};
    if (change.name) patch.name = change.name;
    if (change.address) {
      const a = change.address;
      Object.assign(patch, { address_line1: a.line1, address_line2: a.line2 || null, town: a.town, postcode: a.postcode, country: a.country });
    }
    const changed = Object.entries(patch).filter(([k, v]) => member[k as keyof Member] !== v);
    if (changed.length === 0) return memberView(member);
    const after = await updateMemberDetails(trx, member.id, Object.fromEntries(changed), deps.clock.now());
    await recordAudit(trx, deps.clock, actor, {
      action: 'member.details_changed',
      subjectType: 'member',
      subjectId: String(member.number),
      // Which fields changed, not their values: personal data stays out of the append-only log.
      after: { fields: changed.map(([k]) => k), source: change.source, kind: member.kind },
    });
    return memberView(after);
  });
}
