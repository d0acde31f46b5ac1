/**
 * Withdrawing shares: a member gives notice; the board approves, rejects or
 * defers; the money is paid outside Stripe and recorded here when paid, as a
 * withdrawal transaction. A member whose holding reaches zero ceases.
 *
 *   requested -> approved | rejected | deferred
 *   deferred  -> approved | rejected
 *   approved  -> paid | deferred | rejected
 */
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { ShareWithdrawal, ShareWithdrawalStatus } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { queueEmail } from '../email/outbox.service.js';
import { formatMoney } from '../lib/money.js';
import { longDate, longDateAt } from '../lib/long-dates.js';
import { noticeAddressOfMember } from './member-records.repository.js';
import { findCurrentMemberForPerson, findMember } from './register.repository.js';
import { appendShareTransaction } from './register-changes.js';
import { withdrawalView, type WithdrawalView } from './register.views.js';
import { addDays, checkWithdrawal, localDate, withdrawalValue } from './share-rules.js';
import type { SharesErrorCode } from './shares.errors.js';
import type { WithdrawalAction } from './shares.schemas.js';
import {
  findWithdrawal,
  findWithdrawalWithMember,
  insertWithdrawal,
  listWithdrawals,
  sumOpenWithdrawals,
  updateWithdrawal,
} from './withdrawals.repository.js';

type WithdrawalDeps = Pick<AppDeps, 'config' | 'clock' | 'db' | 'logger'>;

const transitions: Record<WithdrawalAction, { from: readonly ShareWithdrawalStatus[]; to: ShareWithdrawalStatus; verb: string }> = {
  approve: { from: ['requested', 'deferred'], to: 'approved', verb: 'approved' },
  reject: { from: ['requested', 'deferred', 'approved'], to: 'rejected', verb: 'rejected' },
  defer: { from: ['requested', 'approved'], to: 'deferred', verb: 'deferred' },
  paid: { from: ['approved'], to: 'paid', verb: 'paid' },
};

const sharesError = (code: SharesErrorCode, status: 404 | 409 | 422, message: string, details?: unknown) =>
  new AppError<SharesErrorCode>({ code, status, message, details });

export interface WithdrawalAccepted extends WithdrawalView {
  noticeDays: number;
  message: string;
}

/** A member asks to withdraw shares (202): at most what is not already asked for, leaving none or at least the minimum. */
export async function requestWithdrawal(deps: WithdrawalDeps, actor: Actor & { id: string }, shares: number): Promise<WithdrawalAccepted> {
  const { config } = deps;
  const noticeDays = config.shares.withdrawalNoticeDays;
  const id = await deps.db.transaction().execute(async (trx) => {
    const member = await findCurrentMemberForPerson(trx, actor.id, { forUpdate: true });
    if (!member || member.shares_held === 0) {
      throw sharesError('not_a_member', 404, 'You hold no shares to withdraw.');
    }
    const pending = await sumOpenWithdrawals(trx, member.id);
    const verdict = checkWithdrawal({ sharesHeld: member.shares_held, sharesPending: pending, requested: shares, minHolding: config.shares.minShares });
    if (!verdict.allowed && verdict.reason === 'exceeds_holding') {
      throw sharesError(
        'withdrawal_exceeds_holding',
        422,
        pending > 0
          ? `You hold ${member.shares_held} shares and have already asked to withdraw ${pending}, so you can ask for at most ${verdict.available} more.`
          : `You hold ${member.shares_held} shares, so you cannot withdraw ${shares}.`,
        { sharesHeld: member.shares_held, pending, available: verdict.available },
      );
    }
    if (!verdict.allowed) {
      throw sharesError(
        'below_minimum_holding',
        422,
        `That would leave you ${verdict.remaining} shares; a member holds at least ${config.shares.minShares}. Withdraw everything to leave the society, or fewer shares.`,
        { remaining: verdict.remaining, minHolding: config.shares.minShares },
      );
    }
    const now = deps.clock.now();
    const withdrawal = await insertWithdrawal(trx, {
      member_id: member.id,
      shares,
      requested_at: now,
      requested_by: actor.id,
      notice_ends_on: addDays(localDate(now, config.society.timeZone), noticeDays),
      updated_at: now,
    });
    await recordAudit(trx, deps.clock, actor, {
      action: 'share_withdrawal.requested',
      subjectType: 'share_withdrawal',
      subjectId: withdrawal.id,
      after: { memberNumber: member.number, shares, noticeEndsOn: withdrawal.notice_ends_on },
    });
    return withdrawal.id;
  });
  const view = withdrawalView((await findWithdrawalWithMember(deps.db, id))!);
  deps.logger.info({ withdrawalId: id, memberNumber: view.memberNumber, shares }, 'share withdrawal requested');
  return {
    ...view,
    noticeDays,
    message:
      `We have your request to withdraw ${shares} ${shares === 1 ? 'share' : 'shares'}. The society's rules ask for ${noticeDays} days' notice, ` +
      `so the board can pay it from ${longDate(view.noticeEndsOn)}; we will write when it decides.`,
  };
}

/** The /account page's withdrawal form: the outcome as a message to show (202 or the rule broken). */
export async function submitWithdrawalForm(
  deps: WithdrawalDeps,
  actor: Actor & { id: string },
  sharesText: string,
): Promise<{ ok: boolean; status: number; message: string }> {
  const text = sharesText.trim().replace(/,/g, '');
  if (!/^\d{1,9}$/.test(text) || Number(text) === 0) {
    return { ok: false, status: 422, message: 'Please give a whole number of shares to withdraw, such as 50.' };
  }
  try {
    const accepted = await requestWithdrawal(deps, actor, Number(text));
    return { ok: true, status: 202, message: accepted.message };
  } catch (err) {
    if (err instanceof AppError && (err.status === 404 || err.status === 422)) return { ok: false, status: err.status, message: err.message };
    throw err;
  }
}

/** The board's queue of withdrawal requests, oldest first. */
export async function listShareWithdrawals(deps: Pick<AppDeps, 'db'>, filter: { status?: ShareWithdrawalStatus }): Promise<WithdrawalView[]> {
  return (await listWithdrawals(deps.db, { status: filter.status, limit: 1000 })).map(withdrawalView);
}

/** approve / reject / defer / paid, audited; 409 invalid_transition from a state that does not allow it. */
export async function decideWithdrawal(
  deps: WithdrawalDeps,
  actor: Actor,
  id: string,
  action: WithdrawalAction,
  note?: string,
): Promise<WithdrawalView> {
  const transition = transitions[action];
  await deps.db.transaction().execute(async (trx) => {
    const before = await findWithdrawal(trx, id, { forUpdate: true });
    if (!before) throw sharesError('withdrawal_not_found', 404, 'There is no such withdrawal request.');
    if (!transition.from.includes(before.status)) {
      throw sharesError('invalid_transition', 409, `A withdrawal that is ${before.status} cannot be ${transition.verb}.`, {
        status: before.status,
        allowedFrom: transition.from,
      });
    }
    const now = deps.clock.now();
    let after: ShareWithdrawal;
    let extra: Record<string, unknown> = {};
    if (action === 'paid') {
      const member = (await findMember(trx, before.member_id, { forUpdate: true }))!;
      if (member.ceased_on || member.shares_held < before.shares) {
        throw sharesError(
          'insufficient_holding',
          409,
          `The member now holds ${member.shares_held} shares, fewer than the ${before.shares} this request would pay for.`,
          { sharesHeld: member.shares_held },
        );
      }
      const amount = withdrawalValue(member.shares_held, member.amount_paid, before.shares);
      const today = localDate(now, deps.config.society.timeZone);
      const moved = await appendShareTransaction(deps, trx, actor, {
        member_id: member.id,
        kind: 'withdrawal',
        shares: -before.shares,
        amount: -amount,
        currency: member.currency,
        effective_on: today,
        recorded_at: now,
        withdrawal_id: before.id,
        recorded_by: actor.id,
        note: note ?? null,
      });
      after = await updateWithdrawal(trx, id, { status: 'paid', paid_at: now, paid_by: actor.id, amount, note: note ?? before.note, updated_at: now });
      extra = { amount, transactionId: moved!.transaction.id, memberCeased: Boolean(moved!.member.ceased_on), beforeNoticeEnded: today < before.notice_ends_on };
    } else {
      after = await updateWithdrawal(trx, id, { status: transition.to, decided_at: now, decided_by: actor.id, note: note ?? before.note, updated_at: now });
    }
    await queueDecisionEmail(deps, trx, before, after, action);
    await recordAudit(trx, deps.clock, actor, {
      action: `share_withdrawal.${transition.verb}`,
      subjectType: 'share_withdrawal',
      subjectId: id,
      before: { status: before.status, shares: before.shares },
      after: { status: after.status, note: after.note, ...extra },
    });
  });
  deps.logger.info({ withdrawalId: id, action }, 'share withdrawal decided');
  return withdrawalView((await findWithdrawalWithMember(deps.db, id))!);
}

/** The member hears of every decision on their request, in the decision's own transaction. */
async function queueDecisionEmail(
  deps: WithdrawalDeps,
  trx: Parameters<typeof findWithdrawal>[0],
  before: ShareWithdrawal,
  after: ShareWithdrawal,
  action: WithdrawalAction,
): Promise<void> {
  const to = await noticeAddressOfMember(trx, before.member_id);
  if (!to?.email || to.email.endsWith('.invalid')) return;
  await queueEmail(deps, trx, {
    to: to.email,
    personId: to.personId,
    template: 'shares/withdrawal-decision',
    vars: {
      name: to.name,
      memberNumber: to.number,
      shares: before.shares,
      decision: action,
      requestedOnLong: longDateAt(before.requested_at, deps.config.society.timeZone),
      noticeEndsOnLong: longDate(before.notice_ends_on),
      amount: after.amount === null ? null : formatMoney(after.amount, deps.config.society.currency),
    },
  });
}
