/** What a member sees of their shares: membership, holding, transactions, withdrawals. */
import type { AppDeps } from '../deps.js';
import type { ShareTransaction } from '../db/schema.js';
import { listMembershipsForPerson, listTransactionsForMembers } from './register.repository.js';
import { memberView, withdrawalView, type MemberView, type WithdrawalView } from './register.views.js';
import { listWithdrawalsForMembers } from './withdrawals.repository.js';

export interface MemberShares {
  /** The current membership, else the most recent former one; null for someone who never held shares. */
  member: MemberView | null;
  shares: {
    held: number;
    paid: number;
    currency: string;
    transactions: {
      id: number;
      memberNumber: number;
      kind: ShareTransaction['kind'];
      shares: number;
      amount: number;
      currency: string;
      effectiveOn: string;
    }[];
    withdrawals: WithdrawalView[];
    withdrawalNoticeDays: number;
  };
}

/** A person's membership, holding and every share transaction (for GET /api/me and the account page). */
export async function memberSharesForPerson(deps: Pick<AppDeps, 'config' | 'db'>, personId: string): Promise<MemberShares> {
  const memberships = await listMembershipsForPerson(deps.db, personId);
  const shown = memberships.find((m) => !m.ceased_on) ?? memberships[0];
  const ids = memberships.map((m) => m.id);
  const [transactions, withdrawals] = await Promise.all([listTransactionsForMembers(deps.db, ids), listWithdrawalsForMembers(deps.db, ids)]);
  return {
    member: shown ? memberView(shown) : null,
    shares: {
      held: shown?.shares_held ?? 0,
      paid: shown?.amount_paid ?? 0,
      currency: shown?.currency.trim() ?? deps.config.society.currency,
      transactions: transactions.map((t) => ({
        id: t.id,
        memberNumber: t.member_number,
        kind: t.kind,
        shares: t.shares,
        amount: t.amount,
        currency: t.currency.trim(),
        effectiveOn: t.effective_on,
      })),
      withdrawals: withdrawals.map(withdrawalView),
      withdrawalNoticeDays: deps.config.shares.withdrawalNoticeDays,
    },
  };
}
