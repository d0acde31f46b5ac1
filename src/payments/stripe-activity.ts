/**
 * What Stripe holds for a period, for reconciliation: the charges, refunds and
 * disputes created in it, read page by page through the list endpoints (never
 * inside a database transaction: these are network calls), and the objects a
 * repair needs to replay what a missed webhook would have said.
 */
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import { STRIPE_API_VERSION } from './stripe-client.js';

export interface StripeActivity {
  charges: Stripe.Charge[];
  refunds: Stripe.Refund[];
  disputes: Stripe.Dispute[];
}

/** Everything created in [from, to] (Unix seconds, inclusive), all pages of it. */
export async function listStripeActivity(deps: Pick<AppDeps, 'stripe'>, from: number, to: number): Promise<StripeActivity> {
  const created = { gte: from, lte: to };
  const [charges, refunds, disputes] = await Promise.all([
    collect(deps.stripe.charges.list({ created, limit: 100 })),
    collect(deps.stripe.refunds.list({ created, limit: 100 })),
    collect(deps.stripe.disputes.list({ created, limit: 100 })),
  ]);
  return { charges, refunds, disputes };
}

async function collect<T>(list: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of list) all.push(item);
  return all;
}

export function retrieveCheckoutSession(deps: Pick<AppDeps, 'stripe'>, sessionId: string): Promise<Stripe.Checkout.Session> {
  return deps.stripe.checkout.sessions.retrieve(sessionId);
}

export function retrieveCharge(deps: Pick<AppDeps, 'stripe'>, chargeId: string): Promise<Stripe.Charge> {
  return deps.stripe.charges.retrieve(chargeId);
}

/**
 * The events Stripe would have sent, for replaying through the webhook's own path
 * (reconciliation's repair). Each id is derived from `key` (the object and what
 * happened), so pressing repair again records nothing new (the inbox keeps one
 * event per id). Typed per event, so the object each carries is the one Stripe sends.
 */
function replayEnvelope(key: string, createdAt: number, livemode: boolean): Omit<Stripe.EventBase, 'type' | 'data'> {
  return {
    id: `evt_replay_${key}`,
    object: 'event',
    api_version: STRIPE_API_VERSION,
    created: createdAt,
    livemode,
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
  };
}

export function replayCheckoutCompleted(session: Stripe.Checkout.Session, key: string, createdAt: number = session.created): Stripe.CheckoutSessionCompletedEvent {
  return { ...replayEnvelope(key, createdAt, session.livemode), type: 'checkout.session.completed', data: { object: session } };
}

export function replayChargeRefunded(charge: Stripe.Charge, key: string, createdAt: number): Stripe.ChargeRefundedEvent {
  return { ...replayEnvelope(key, createdAt, charge.livemode), type: 'charge.refunded', data: { object: charge } };
}

export function replayDispute(
  type: 'charge.dispute.created' | 'charge.dispute.closed',
  dispute: Stripe.Dispute,
  key: string,
): Stripe.ChargeDisputeCreatedEvent | Stripe.ChargeDisputeClosedEvent {
  return { ...replayEnvelope(key, dispute.created, dispute.livemode), type, data: { object: dispute } };
}
