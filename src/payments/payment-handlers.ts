/**
 * How the payments component hands a confirmed Stripe event to the component
 * whose record it concerns. Each purpose (donation, share application, supporter)
 * supplies one PaymentHandler; the webhook dispatcher finds the checkout session
 * through the ids we gave Stripe and calls the matching hook inside the event's
 * transaction. Hooks must be idempotent: the dispatcher guarantees each event is
 * applied once, but different events can describe the same money (a refund seen
 * through two events), so bookings are keyed by Stripe ids with unique indexes.
 */
import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { CheckoutPurpose, CheckoutSession, DB } from '../db/schema.js';

export interface PaidPayment {
  /** Stripe's PaymentIntent id (or the invoice id for subscription payments). */
  paymentIntentId: string;
  amount: number;
  currency: string;
  /** When the money was given: the charge's or session's time, not when we heard of it. */
  paidAt: Date;
  /** The Checkout Session that confirmed it, when one did (checkout.session.completed, async_payment_succeeded). */
  session?: Stripe.Checkout.Session;
  /** The charge that took the money, when the payment is known by its charge (a refund's or dispute's). */
  chargeId?: string;
  /**
   * The invoice this payment paid (a subscription's), as Stripe holds it, asked before the transaction
   * when a refund or dispute of it arrives before anything of ours names the payment (its invoice.paid is late):
   * the handler books the invoice's payment first, as invoice.paid would.
   */
  invoice?: Stripe.Invoice;
}

export interface RefundNotice {
  refundId: string;
  paymentIntentId: string;
  amount: number;
  currency: string;
  refundedAt: Date;
  /** Refund status at Stripe ('succeeded', 'pending'); failed and canceled refunds are never passed on. */
  status: string | null;
  /**
   * The payment this refund takes back, as the charge describes it. A handler books it
   * first when the refund arrives before the payment's own event (Stripe does not promise order).
   */
  originalPayment(): Promise<PaidPayment>;
}

export interface DisputeNotice {
  disputeId: string;
  paymentIntentId: string;
  amount: number;
  currency: string;
  status: Stripe.Dispute.Status;
  at: Date;
  /** As for refunds: the disputed payment, for booking it first when its own event is late (may ask Stripe for the charge). */
  originalPayment(): Promise<PaidPayment>;
}

export interface PaymentHandlerContext {
  trx: Transaction<DB>;
  checkout: CheckoutSession;
  event: Stripe.Event;
}

export interface PaymentHandler {
  /**
   * Money is confirmed (card paid, or Bacs Direct Debit succeeded). May resolve to a string
   * saying what really happened when that is not simply "paid" (a refused and refunded
   * payment, say): it becomes the event's recorded note. Anything else means "paid".
   */
  onPaid(ctx: PaymentHandlerContext, payment: PaidPayment): Promise<unknown>;
  /** A Bacs Direct Debit is submitted: money not yet confirmed. */
  onProcessing?(ctx: PaymentHandlerContext): Promise<void>;
  /** The payment will not arrive (Bacs failed) or the session expired unpaid. */
  onFailed?(ctx: PaymentHandlerContext, reason: 'async_payment_failed' | 'expired'): Promise<void>;
  onRefunded?(ctx: PaymentHandlerContext, refund: RefundNotice): Promise<void>;
  /** Funds were withdrawn for a dispute (charge.dispute.created or .funds_withdrawn; never for inquiries). */
  onDisputeOpened?(ctx: PaymentHandlerContext, dispute: DisputeNotice): Promise<void>;
  /** status 'won' gives the money back; 'lost' takes nothing more (but the opening may not have been seen yet). */
  onDisputeClosed?(ctx: PaymentHandlerContext, dispute: DisputeNotice): Promise<void>;
}

export type PaymentHandlers = Partial<Record<CheckoutPurpose, PaymentHandler>>;
