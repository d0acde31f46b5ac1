/**
 * What Stripe's confirmed events do to a donation: the PaymentHandler registered
 * for purpose 'donation'. Every booking is keyed by a Stripe id (the ledger's
 * unique stripe_key), so it is safe to repeat, and a refund or dispute that
 * arrives before its payment books the payment first: the end state is the same
 * in any order.
 */
import type { AppDeps } from '../deps.js';
import { bookStripeMoneyBack, bookStripeMoneyIn, type StripeMoneyBack } from '../fighting-fund/stripe-bookings.js';
import type { DisputeNotice, PaidPayment, PaymentHandler, PaymentHandlerContext } from '../payments/payment-handlers.js';
import type { Donation } from '../db/schema.js';
import { findDonation, markDonationPaid, markDonationProcessing, markDonationUnpaid } from './donations.repository.js';
import { queueDirectDebitFailed, queueDonationReceipt, queueRefundNotice } from './donation-receipts.js';

type DonationDeps = Pick<AppDeps, 'config' | 'clock' | 'logger'>;

export function donationPaymentHandler(deps: DonationDeps): PaymentHandler {
  async function onPaid(ctx: PaymentHandlerContext, payment: PaidPayment): Promise<void> {
    // The checkout row is locked by the dispatcher, so events about this payment apply one at a time.
    const paid = await markDonationPaid(ctx.trx, ctx.checkout.record_id, payment.paidAt);
    if (!paid) throw new Error(`checkout ${ctx.checkout.id} names donation ${ctx.checkout.record_id}, which does not exist`);
    const { donation, previousStatus } = paid;
    const booked = await bookStripeMoneyIn(deps, ctx.trx, {
      stripeKey: paymentKey(payment.paymentIntentId),
      sourceRef: payment.paymentIntentId,
      kind: 'online_donation',
      amount: payment.amount,
      currency: payment.currency,
      givenAt: payment.paidAt,
      requestedCampaignId: donation.campaign_id,
      donationId: donation.id,
      acknowledged: donation.acknowledge,
      donorName: donation.acknowledge ? donation.name : null,
      donorTown: donation.acknowledge ? donation.town : null,
    });
    if (previousStatus !== 'paid') deps.logger.info({ donationId: donation.id, amount: payment.amount }, 'donation paid');
    // Once per payment (its dedupe key too), in this transaction: no receipt without the booking.
    if (booked.created) {
      await queueDonationReceipt(deps, ctx.trx, { donation, entry: booked.entry, campaign: booked.campaign, paymentIntentId: payment.paymentIntentId });
    }
  }

  /** Books money going back; books the payment first when its own event has not been applied yet. */
  async function bookBack(ctx: PaymentHandlerContext, input: StripeMoneyBack, originalPayment: () => Promise<PaidPayment>): Promise<void> {
    if (await bookStripeMoneyBack(deps, ctx.trx, input)) return;
    await onPaid(ctx, await originalPayment());
    if (!(await bookStripeMoneyBack(deps, ctx.trx, input))) throw new Error(`${input.stripeKey}: the payment it takes back could not be booked`);
  }

  const disputeOut = (dispute: DisputeNotice): StripeMoneyBack => ({
    stripeKey: `dispute:${dispute.disputeId}`,
    sourceRef: dispute.disputeId,
    kind: 'dispute',
    originalStripeKey: paymentKey(dispute.paymentIntentId),
    amount: dispute.amount,
    currency: dispute.currency,
    givenAt: dispute.at,
  });

  return {
    onPaid,

    async onProcessing(ctx) {
      await markDonationProcessing(ctx.trx, ctx.checkout.record_id);
    },

    async onFailed(ctx, reason) {
      await markDonationUnpaid(ctx.trx, ctx.checkout.record_id, reason === 'expired' ? 'expired' : 'failed');
      // A Direct Debit the bank did not pay: the donor is told, with a way to try again.
      if (reason === 'async_payment_failed') {
        const donation = await findDonation(ctx.trx, ctx.checkout.record_id);
        if (donation) await queueDirectDebitFailed(deps, ctx.trx, { donation, checkoutId: ctx.checkout.id });
      }
    },

    async onRefunded(ctx, refund) {
      await bookBack(
        ctx,
        {
          stripeKey: `refund:${refund.refundId}`,
          sourceRef: refund.refundId,
          kind: 'refund',
          originalStripeKey: paymentKey(refund.paymentIntentId),
          amount: refund.amount,
          currency: refund.currency,
          givenAt: refund.refundedAt,
        },
        refund.originalPayment,
      );
      // Once per Stripe refund (dedupe key), however many events report it.
      await queueRefundNotice(deps, ctx.trx, {
        donation: await donationOf(ctx),
        refundId: refund.refundId,
        amount: refund.amount,
        currency: refund.currency,
        refundedAt: refund.refundedAt,
      });
    },

    async onDisputeOpened(ctx, dispute) {
      await bookBack(ctx, disputeOut(dispute), dispute.originalPayment);
    },

    async onDisputeClosed(ctx, dispute) {
      // The opening may not have been applied yet (events arrive in any order): book it, once.
      await bookBack(ctx, disputeOut(dispute), dispute.originalPayment);
      if (dispute.status !== 'won') return;
      await bookBack(
        ctx,
        {
          stripeKey: `dispute_won:${dispute.disputeId}`,
          sourceRef: dispute.disputeId,
          kind: 'dispute_won',
          originalStripeKey: paymentKey(dispute.paymentIntentId),
          amount: dispute.amount,
          currency: dispute.currency,
          givenAt: dispute.at,
        },
        dispute.originalPayment,
      );
    },
  };
}

const paymentKey = (paymentIntentId: string) => `payment:${paymentIntentId}`;

async function donationOf(ctx: PaymentHandlerContext): Promise<Donation> {
  const donation = await findDonation(ctx.trx, ctx.checkout.record_id);
  if (!donation) throw new Error(`checkout ${ctx.checkout.id} names donation ${ctx.checkout.record_id}, which does not exist`);
  return donation;
}
