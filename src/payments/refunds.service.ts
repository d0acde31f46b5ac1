/**
 * Giving money back through Stripe, for a component whose record can no longer be
 * honoured (a share application refused after payment, say). The refund reaches the
 * books only through the charge.refunded webhook that follows, like any other refund.
 */
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import { paymentProviderError } from './stripe-errors.js';

export interface RefundRequest {
  paymentIntentId: string;
  /** Why, for the treasurer: kept in the refund's metadata. */
  reason: string;
  /** Stable per refund decision (e.g. `share-application-refund:<id>`), so a retry never refunds twice. */
  idempotencyKey: string;
  /** Pence; the whole payment when omitted. */
  amount?: number;
  /** Stripe's own reason code; defaults to requested_by_customer. */
  stripeReason?: Stripe.RefundCreateParams.Reason;
}

export interface RefundResult {
  refundId: string;
  status: string | null;
  amount: number;
}

/** Asks Stripe to refund a payment; 502 payment_provider_unavailable or payment_provider_error (stripe-errors.ts) when it fails. */
export async function refundPayment(deps: Pick<AppDeps, 'stripe' | 'logger'>, request: RefundRequest): Promise<RefundResult> {
  if (request.amount !== undefined && (!Number.isSafeInteger(request.amount) || request.amount <= 0)) {
    throw new Error(`refund amount must be a positive whole number of pence, not ${request.amount}`);
  }
  try {
    const refund = await deps.stripe.refunds.create(
      {
        payment_intent: request.paymentIntentId,
        ...(request.amount === undefined ? {} : { amount: request.amount }),
        reason: request.stripeReason ?? 'requested_by_customer',
        metadata: { reason: request.reason.slice(0, 500) },
      },
      { idempotencyKey: request.idempotencyKey },
    );
    deps.logger.info({ refundId: refund.id, paymentIntentId: request.paymentIntentId, amount: refund.amount }, 'refund requested');
    return { refundId: refund.id, status: refund.status, amount: refund.amount };
  } catch (err) {
    throw paymentProviderError(deps.logger, err, { paymentIntentId: request.paymentIntentId }, 'the refund was not made');
  }
}
