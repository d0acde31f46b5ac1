/**
 * The sandbox's refunds and disputes: money going back to the payer, from a charge
 * the sandbox holds (sandbox-state.ts), shaped as the pinned API version shapes
 * them, with the events Stripe would send. POST /v1/refunds and the dashboard's
 * Refund, Dispute and Close buttons come here; so do tests and the chaos month.
 */
import { listObjects, type ListQuery } from './list-objects.js';
import { held, heldId, invalid, missing, newId, SandboxApiError, type SandboxCharge, type SandboxDispute, type SandboxEvent, type SandboxRefund } from './sandbox-objects.js';
import type { SandboxState } from './sandbox-state.js';

export class SandboxMoneyBack {
  readonly refunds = new Map<string, SandboxRefund>();
  readonly disputes = new Map<string, SandboxDispute>();

  constructor(private readonly state: SandboxState) {}

  // ---- refunds ------------------------------------------------------------------

  /** POST /v1/refunds, or the dashboard's Refund button: a refund and its charge.refunded event. */
  createRefund(params: { charge?: string | undefined; paymentIntent?: string | undefined; amount?: number | undefined; reason?: string | undefined; metadata?: Record<string, string> }): {
    refund: SandboxRefund;
    events: SandboxEvent[];
  } {
    let charge: SandboxCharge;
    if (params.charge) charge = this.state.getCharge(params.charge);
    else if (params.paymentIntent) {
      const intent = this.state.getPaymentIntent(params.paymentIntent);
      if (!intent.latest_charge) throw new SandboxApiError(400, 'invalid_request_error', 'This PaymentIntent has no charge to refund.', 'charge_not_refundable');
      charge = this.state.getCharge(heldId(intent.latest_charge));
    } else throw missing('charge');
    if (charge.status !== 'succeeded') throw new SandboxApiError(400, 'invalid_request_error', `Charge ${charge.id} has not succeeded and cannot be refunded.`, 'charge_not_refundable');
    const remaining = charge.amount - charge.amount_refunded;
    const amount = params.amount ?? remaining;
    if (remaining <= 0) throw new SandboxApiError(400, 'invalid_request_error', `Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
    if (!Number.isSafeInteger(amount) || amount < 1 || amount > remaining) {
      throw new SandboxApiError(400, 'invalid_request_error', `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining}).`, 'amount_too_large', 'amount');
    }
    const refund: SandboxRefund = {
      id: newId('re', 24),
      object: 'refund',
      amount,
      charge: charge.id,
      payment_intent: charge.payment_intent,
      currency: charge.currency,
      created: this.state.nowSeconds(),
      status: 'succeeded',
      reason: params.reason ?? null,
      metadata: params.metadata ?? {},
      balance_transaction: null,
      receipt_number: null,
    };
    this.refunds.set(refund.id, refund);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    // The pinned API version no longer embeds `refunds` in a charge: listeners ask for them.
    return { refund, events: [this.state.event('charge.refunded', charge)] };
  }

  /** GET /v1/refunds: newest first, Stripe's cursor pagination, by charge, PaymentIntent or creation time. */
  listRefunds(query: ListQuery & { charge?: string | undefined; paymentIntent?: string | undefined }) {
    const refunds = [...this.refunds.values()].filter(
      (r) => (!query.charge || r.charge === query.charge) && (!query.paymentIntent || r.payment_intent === query.paymentIntent),
    );
    return listObjects(refunds, query, '/v1/refunds', 'refund');
  }

  getRefund(id: string): SandboxRefund {
    return held(this.refunds, 'refund', id);
  }

  getDispute(id: string): SandboxDispute {
    return held(this.disputes, 'dispute', id);
  }

  /** GET /v1/disputes: newest first, by creation time. */
  listDisputes(query: ListQuery & { charge?: string | undefined; paymentIntent?: string | undefined }) {
    const disputes = [...this.disputes.values()].filter(
      (d) => (!query.charge || d.charge === query.charge) && (!query.paymentIntent || d.payment_intent === query.paymentIntent),
    );
    return listObjects(disputes, query, '/v1/disputes', 'dispute');
  }

  // ---- disputes -----------------------------------------------------------------

  /** The payer's bank disputes the payment: funds withdrawn (charge.dispute.created and .funds_withdrawn). */
  openDispute(sessionId: string, amount?: number): { dispute: SandboxDispute; events: SandboxEvent[] } {
    return this.disputeCharge(this.state.chargeOf(sessionId).id, amount);
  }

  /** The same for any charge (a subscription's invoice payment has no session of its own). */
  disputeCharge(chargeId: string, amount?: number): { dispute: SandboxDispute; events: SandboxEvent[] } {
    const charge = this.state.getCharge(chargeId);
    if (charge.status !== 'succeeded') throw new SandboxApiError(400, 'invalid_request_error', 'Only a succeeded payment can be disputed.');
    if (charge.disputed) throw new SandboxApiError(400, 'invalid_request_error', `Charge ${charge.id} is already disputed.`);
    const disputed = amount ?? charge.amount - charge.amount_refunded;
    if (!Number.isSafeInteger(disputed) || disputed < 1 || disputed > charge.amount) throw invalid('amount', 'The disputed amount must be between 1 and the charge amount.');
    const dispute: SandboxDispute = {
      id: newId('dp', 24),
      object: 'dispute',
      amount: disputed,
      charge: charge.id,
      payment_intent: charge.payment_intent,
      currency: charge.currency,
      created: this.state.nowSeconds(),
      livemode: false,
      status: 'needs_response',
      reason: 'fraudulent',
      metadata: {},
      is_charge_refundable: false,
    };
    this.disputes.set(dispute.id, dispute);
    charge.disputed = true;
    return { dispute, events: [this.state.event('charge.dispute.created', dispute), this.state.event('charge.dispute.funds_withdrawn', dispute)] };
  }

  /** The bank decides: charge.dispute.closed with status won or lost. */
  closeDispute(disputeId: string, outcome: 'won' | 'lost'): { dispute: SandboxDispute; events: SandboxEvent[] } {
    const dispute = this.getDispute(disputeId);
    if (dispute.status === 'won' || dispute.status === 'lost') throw new SandboxApiError(400, 'invalid_request_error', `Dispute ${disputeId} is already closed.`);
    dispute.status = outcome;
    return { dispute, events: [this.state.event('charge.dispute.closed', dispute)] };
  }
}
