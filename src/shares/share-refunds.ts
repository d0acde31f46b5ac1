/**
 * A share payment refunded, or taken back by a lost dispute: the money given back
 * is recorded once per Stripe object (share_payment_returns), then the allotment
 * is reduced to what is still paid for (allotment-reversals.ts). A refund seen
 * before its payment is remembered and applied when the payment is booked.
 */
import type { Executor } from '../db/database.js';
import type { PaidPayment } from '../payments/payment-handlers.js';
import { applyPaymentReturns } from './allotment-reversals.js';
import { insertPaymentReturn } from './applications.repository.js';
import { findAllotmentForApplication } from './register.repository.js';
import { allotOnPayment } from './share-allotment.js';
import { lockedApplication, type AllotDeps } from './share-payment-status.js';

export interface MoneyBack {
  stripeKey: string;
  kind: 'refund' | 'dispute_lost';
  amount: number;
  currency: string;
  at: Date;
  originalPayment: () => Promise<PaidPayment>;
}

/** A refund or a lost dispute: recorded once, then the allotment is reduced to what is still paid for. */
export async function recordMoneyBack(deps: AllotDeps, trx: Executor, applicationId: string, back: MoneyBack): Promise<void> {
  const application = await lockedApplication(deps, trx, applicationId);
  if (!application) return;
  const recorded = await insertPaymentReturn(trx, {
    application_id: applicationId,
    stripe_key: back.stripeKey,
    kind: back.kind,
    amount: back.amount,
    currency: back.currency,
    returned_at: back.at,
    recorded_at: deps.clock.now(),
  });
  if (!recorded) return;
  deps.logger.info({ applicationId, stripeKey: back.stripeKey, amount: back.amount }, 'money given back on a share payment');

  if (application.status === 'pending' || application.status === 'processing' || application.status === 'expired' || application.status === 'failed') {
    // The payment's own event has not reached us yet: book it first; it sees this return.
    await allotOnPayment(deps, trx, applicationId, await back.originalPayment());
    return;
  }
  if (application.status !== 'allotted') return;
  const allotment = await findAllotmentForApplication(trx, applicationId);
  if (allotment) await applyPaymentReturns(deps, trx, application, allotment);
}
