/**
 * Disputes on a share payment: the register changes only when a dispute is LOST
 * (charge.dispute.closed with status lost), which is booked like a refund. While a
 * dispute is open the shares stand and the application notes it; a won dispute
 * therefore never needs to re-allot anything, and the register does not churn (a
 * member ceasing and being readmitted) over a chargeback that the society wins.
 */
import type { Executor } from '../db/database.js';
import type { DisputeNotice } from '../payments/payment-handlers.js';
import { updateApplication } from './applications.repository.js';
import { lockedApplication, type AllotDeps } from './share-payment-status.js';
import { recordMoneyBack } from './share-refunds.js';

/** Notes a dispute's status on the application; the shares stand. */
export async function noteDispute(deps: AllotDeps, trx: Executor, applicationId: string, status: string, disputeId: string): Promise<void> {
  const application = await lockedApplication(deps, trx, applicationId);
  if (!application) return;
  await updateApplication(trx, applicationId, { dispute_status: status, updated_at: deps.clock.now() });
  deps.logger.warn({ applicationId, disputeId, status }, 'dispute on a share payment');
}

/** A closed dispute: a lost one takes the money back (and the shares it paid for); any other outcome is noted. */
export async function closeDispute(deps: AllotDeps, trx: Executor, applicationId: string, dispute: DisputeNotice): Promise<void> {
  if (dispute.status === 'lost') {
    await recordMoneyBack(deps, trx, applicationId, {
      stripeKey: `dispute:${dispute.disputeId}`,
      kind: 'dispute_lost',
      amount: dispute.amount,
      currency: dispute.currency,
      at: dispute.at,
      originalPayment: dispute.originalPayment,
    });
  }
  await noteDispute(deps, trx, applicationId, dispute.status, dispute.disputeId);
}
