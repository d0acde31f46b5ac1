/**
 * Reversing an allotment by the shares that the money given back (refunds, lost
 * disputes) no longer pays for: one reversal transaction per refund or lost
 * dispute, keyed by its Stripe id, never deleting anything.
 */
import type { AppDeps } from '../deps.js';
import { systemActor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { ShareApplication, ShareTransaction } from '../db/schema.js';
import { listPaymentReturns, updateApplication } from './applications.repository.js';
import { appendShareTransaction } from './register-changes.js';
import { findMember, sumReversalsOf } from './register.repository.js';
import { localDate, sharesToReverse } from './share-rules.js';

/**
 * Reverses the allotment by the shares that the money given back no longer pays for:
 * one reversal per refund or lost dispute, keyed by its Stripe id.
 */
export async function applyPaymentReturns(
  deps: Pick<AppDeps, 'config' | 'clock' | 'logger'>,
  trx: Executor,
  application: ShareApplication,
  allotment: ShareTransaction,
): Promise<void> {
  const returns = await listPaymentReturns(trx, application.id);
  if (returns.length === 0) return;
  let returned = 0;
  let reversedShares = 0;
  for (const back of returns) {
    returned += back.amount;
    const already = await sumReversalsOf(trx, allotment.id);
    reversedShares = already.shares;
    const member = (await findMember(trx, allotment.member_id, { forUpdate: true }))!;
    const shares = Math.min(
      member.shares_held,
      sharesToReverse({ sharesAllotted: allotment.shares, amountPaid: allotment.amount, totalReturned: returned, sharesAlreadyReversed: already.shares }),
    );
    const amount = Math.min(back.amount, allotment.amount - already.amount, member.amount_paid);
    if (shares <= 0 && amount <= 0) continue;
    const reversal = await appendShareTransaction(deps, trx, systemActor, {
      member_id: member.id,
      kind: 'reversal',
      shares: -shares,
      amount: -amount,
      currency: allotment.currency,
      effective_on: localDate(back.returned_at, deps.config.society.timeZone),
      recorded_at: deps.clock.now(),
      application_id: application.id,
      reverses_transaction_id: allotment.id,
      stripe_key: back.stripe_key,
      note: back.kind === 'refund' ? 'Payment refunded' : 'Payment taken back by a lost dispute',
    });
    if (!reversal) continue;
    reversedShares += shares;
    deps.logger.warn(
      { applicationId: application.id, memberNumber: reversal.member.number, shares, amount, stripeKey: back.stripe_key, ceased: Boolean(reversal.member.ceased_on) },
      'share allotment reversed',
    );
  }
  if (reversedShares >= allotment.shares && application.status !== 'reversed') {
    await updateApplication(trx, application.id, { status: 'reversed', updated_at: deps.clock.now() });
  }
}
