/**
 * What Stripe's news does to a share application, always inside the webhook
 * event's transaction. This file only routes each piece of news to the verb
 * that handles it:
 *
 * - paid: the shares are allotted (share-allotment.ts), or, when the application
 *   can no longer be honoured, the payment is refused and a refund job queued
 *   (share-refusals.ts; Stripe is called after commit, by the worker).
 * - Bacs submitted / failed, session expired: the application's status follows
 *   (share-payment-status.ts); failed and expired applications stop counting
 *   toward the cap.
 * - refunded, dispute lost: the money given back is recorded once per Stripe
 *   object and the allotment reduced to what is still paid for (share-refunds.ts,
 *   allotment-reversals.ts).
 * - disputes: the register changes only when a dispute is LOST (share-disputes.ts).
 */
import type { AppDeps } from '../deps.js';
import type { PaymentHandler } from '../payments/payment-handlers.js';
import { allotOnPayment } from './share-allotment.js';
import { closeDispute, noteDispute } from './share-disputes.js';
import { markProcessing, markUnpaid } from './share-payment-status.js';
import { recordMoneyBack } from './share-refunds.js';

/** The PaymentHandler the webhook dispatcher calls for purpose 'share_application'. */
export function createSharePaymentHandler(deps: AppDeps): PaymentHandler {
  return {
    onPaid: (ctx, payment) => allotOnPayment(deps, ctx.trx, ctx.checkout.record_id, payment),
    onProcessing: (ctx) => markProcessing(deps, ctx.trx, ctx.checkout.record_id),
    onFailed: (ctx, reason) => markUnpaid(deps, ctx.trx, ctx.checkout.record_id, reason),
    onRefunded: (ctx, refund) =>
      recordMoneyBack(deps, ctx.trx, ctx.checkout.record_id, {
        stripeKey: `refund:${refund.refundId}`,
        kind: 'refund',
        amount: refund.amount,
        currency: refund.currency,
        at: refund.refundedAt,
        originalPayment: refund.originalPayment,
      }),
    onDisputeOpened: (ctx, dispute) => noteDispute(deps, ctx.trx, ctx.checkout.record_id, 'open', dispute.disputeId),
    onDisputeClosed: (ctx, dispute) => closeDispute(deps, ctx.trx, ctx.checkout.record_id, dispute),
  };
}
