/**
 * The payments component's Stripe event appliers (see event-appliers.ts for the
 * prepare / apply shape): Checkout Sessions, refunds and disputes. Each finds our
 * checkout ONLY through ids we gave Stripe (the stored session id,
 * client_reference_id, metadata.checkout_id, the stored PaymentIntent id) and hands
 * the event to the PaymentHandler of that checkout's purpose (donation, share
 * application, ...). What Stripe must be asked (a charge's refunds, a charge, a
 * PaymentIntent's metadata) is asked in `prepare`, before the transaction.
 */
import type Stripe from 'stripe';
import type { CheckoutSession } from '../db/schema.js';
import type { Executor } from '../db/database.js';
import {
  findCheckoutById,
  findCheckoutByPaymentIntentId,
  lockCheckout,
  recordCheckoutProgress,
  type CheckoutProgress,
} from './checkout.repository.js';
import { applied, ignored, type ApplyContext, type EventAppliers, type EventOutcome, type PrepareContext, type StripeEventOf } from './event-appliers.js';
import type { PaidPayment, PaymentHandler, PaymentHandlerContext } from './payment-handlers.js';

/**
 * Stripe calls of a prepare step: short, and not retried here. A slow or failing
 * call fails the event, which the job retries later with backoff.
 */
const PREPARE_CALL = { timeout: 5000, maxNetworkRetries: 0 } as const;

export function registerPaymentAppliers(registry: EventAppliers): EventAppliers {
  return registry
    .on('checkout.session.completed', sessionCompleted)
    .on('checkout.session.async_payment_succeeded', asyncPaymentSucceeded)
    .on('checkout.session.async_payment_failed', (ctx, event) => sessionFailed(ctx, event, 'async_payment_failed'))
    .on('checkout.session.expired', (ctx, event) => sessionFailed(ctx, event, 'expired'))
    .on('charge.refunded', { prepare: prepareRefunds, apply: chargeRefunded })
    .on('charge.dispute.created', { prepare: prepareDispute, apply: disputeFundsWithdrawn })
    // An inquiry that escalates withdraws funds later; the same 'dispute:dp_..' key keeps it once.
    .on('charge.dispute.funds_withdrawn', { prepare: prepareDispute, apply: disputeFundsWithdrawn })
    .on('charge.dispute.closed', { prepare: prepareDispute, apply: disputeClosed });
}

type SessionEvent = StripeEventOf<
  'checkout.session.completed' | 'checkout.session.async_payment_succeeded' | 'checkout.session.async_payment_failed' | 'checkout.session.expired'
>;

// ---- checkout sessions ------------------------------------------------------

async function sessionCompleted(ctx: ApplyContext, event: StripeEventOf<'checkout.session.completed'>): Promise<EventOutcome> {
  const session = event.data.object;
  const checkout = await progressSession(ctx, session, {
    status: 'complete',
    paymentStatus: session.payment_status,
    paymentIntentId: idOf(session.payment_intent),
    customerId: idOf(session.customer),
    subscriptionId: idOf(session.subscription),
  });
  if (!checkout) return ignored(`checkout session ${session.id} was not created by this service`);
  const handler = handlerFor(ctx, checkout);
  const hc = handlerContext(ctx, checkout, event);
  if (session.payment_status === 'paid' || session.payment_status === 'no_payment_required') {
    // The handler says what really happened when the money was not simply taken (refused, refunded).
    const outcome = await handler.onPaid(hc, paymentFromSession(ctx, checkout, session, event));
    return applied(typeof outcome === 'string' ? outcome : `${checkout.purpose} ${checkout.record_id} paid`);
  }
  // 'unpaid' on a completed session: a Bacs Direct Debit was submitted, money not yet confirmed.
  await handler.onProcessing?.(hc);
  return applied(`${checkout.purpose} ${checkout.record_id} processing`);
}

async function asyncPaymentSucceeded(ctx: ApplyContext, event: StripeEventOf<'checkout.session.async_payment_succeeded'>): Promise<EventOutcome> {
  const session = event.data.object;
  const checkout = await progressSession(ctx, session, {
    status: 'complete',
    paymentStatus: 'paid',
    paymentIntentId: idOf(session.payment_intent),
    customerId: idOf(session.customer),
  });
  if (!checkout) return ignored(`checkout session ${session.id} was not created by this service`);
  const outcome = await handlerFor(ctx, checkout).onPaid(handlerContext(ctx, checkout, event), paymentFromSession(ctx, checkout, session, event));
  return applied(typeof outcome === 'string' ? `${outcome} (async)` : `${checkout.purpose} ${checkout.record_id} paid (async)`);
}

async function sessionFailed(
  ctx: ApplyContext,
  event: StripeEventOf<'checkout.session.async_payment_failed' | 'checkout.session.expired'>,
  reason: 'async_payment_failed' | 'expired',
): Promise<EventOutcome> {
  const session = event.data.object;
  const checkout = await progressSession(ctx, session, {
    status: reason === 'expired' ? 'expired' : 'complete',
    paymentStatus: session.payment_status,
    paymentIntentId: idOf(session.payment_intent),
  });
  if (!checkout) return ignored(`checkout session ${session.id} was not created by this service`);
  await handlerFor(ctx, checkout).onFailed?.(handlerContext(ctx, checkout, event), reason);
  return applied(`${checkout.purpose} ${checkout.record_id} ${reason}`);
}

/**
 * Records the session's progress on our checkout row, found by the stored session id,
 * else by the ids we put in the session. The update locks the row for the rest of the
 * event's transaction. undefined when the session is not ours.
 */
async function progressSession(
  ctx: ApplyContext,
  session: Stripe.Checkout.Session,
  progress: Omit<CheckoutProgress, 'now' | 'stripeSessionId'>,
): Promise<CheckoutSession | undefined> {
  const now = ctx.deps.clock.now();
  const stored = await recordCheckoutProgress(ctx.trx, { stripeSessionId: session.id }, { ...progress, now });
  if (stored) return stored;
  // The event can beat our own write of the session id (we store it after Stripe answers).
  const candidate = await checkoutFromMetadata(ctx.trx, session.metadata);
  if (!candidate || candidate.record_id !== session.client_reference_id) return undefined;
  const locked = await lockCheckout(ctx.trx, candidate.id);
  if (!locked || (locked.stripe_session_id && locked.stripe_session_id !== session.id)) return undefined;
  return recordCheckoutProgress(ctx.trx, { id: locked.id }, { ...progress, stripeSessionId: session.id, now });
}

function paymentFromSession(ctx: ApplyContext, checkout: CheckoutSession, session: Stripe.Checkout.Session, event: SessionEvent): PaidPayment {
  if (session.amount_total !== null && session.amount_total !== checkout.amount) {
    ctx.deps.logger.warn(
      { checkoutId: checkout.id, expected: checkout.amount, paid: session.amount_total },
      'Stripe reports a different amount than the checkout asked for; booking what was paid',
    );
  }
  return {
    paymentIntentId: idOf(session.payment_intent) ?? session.id,
    amount: session.amount_total ?? checkout.amount,
    currency: (session.currency ?? checkout.currency).toUpperCase(),
    // Completion (or the Direct Debit's success) is when the event happened.
    paidAt: new Date(event.created * 1000),
  };
}

// ---- refunds ----------------------------------------------------------------

interface PreparedRefunds {
  /** The metadata naming our checkout: the charge's, else (fetched) its PaymentIntent's; null when neither names one. */
  metadata: Stripe.Metadata | null;
  /** Every refund of the charge (in the pinned API version a charge no longer lists them); empty when the charge is not ours. */
  refunds: Stripe.Refund[];
}

async function prepareRefunds(ctx: PrepareContext, event: StripeEventOf<'charge.refunded'>): Promise<PreparedRefunds> {
  const charge = event.data.object;
  const link = await prepareChargeLink(ctx, charge);
  if (!link.maybeOurs) return { metadata: link.metadata, refunds: [] };
  const refunds: Stripe.Refund[] = [];
  for await (const refund of ctx.deps.stripe.refunds.list({ charge: charge.id, limit: 100 }, PREPARE_CALL)) refunds.push(refund);
  return { metadata: link.metadata, refunds };
}

async function chargeRefunded(ctx: ApplyContext, event: StripeEventOf<'charge.refunded'>, prepared: PreparedRefunds): Promise<EventOutcome> {
  const charge = event.data.object;
  const checkout = await checkoutForCharge(ctx, charge, prepared.metadata);
  if (!checkout) return ignored(`charge ${charge.id} is not a payment of this service`);
  const handler = handlerFor(ctx, checkout);
  if (!handler.onRefunded) return ignored(`${checkout.purpose} payments take no refunds`);

  // Each refund is handed over every time; the handler books each id once.
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) throw new Error(`charge ${charge.id} has no PaymentIntent`);
  const originalPayment = () => Promise.resolve(paymentFromCharge(charge, paymentIntentId));
  const hc = handlerContext(ctx, checkout, event);
  let passed = 0;
  for (const refund of prepared.refunds) {
    // Money leaves with a succeeded or pending refund; a failed or canceled one never moved it.
    if (refund.status !== 'succeeded' && refund.status !== 'pending') continue;
    await handler.onRefunded(hc, {
      refundId: refund.id,
      paymentIntentId,
      amount: refund.amount,
      currency: refund.currency.toUpperCase(),
      refundedAt: new Date(refund.created * 1000),
      status: refund.status,
      originalPayment,
    });
    passed++;
  }
  return applied(`${passed} refund(s) of ${checkout.purpose} ${checkout.record_id}`);
}

// ---- disputes ---------------------------------------------------------------

type DisputeEvent = StripeEventOf<'charge.dispute.created' | 'charge.dispute.funds_withdrawn' | 'charge.dispute.closed'>;

interface PreparedDispute {
  /** The disputed charge (fetched unless the event carries it): the original payment, and how to link it. */
  charge: Stripe.Charge | null;
  metadata: Stripe.Metadata | null;
}

/** An inquiry, a prevented dispute or a dispute closed without a verdict moves no money: nothing to fetch. */
function disputeMovesMoney(event: DisputeEvent): boolean {
  const { status } = event.data.object;
  if (event.type === 'charge.dispute.closed') return status === 'won' || status === 'lost';
  return !status.startsWith('warning_') && status !== 'prevented';
}

async function prepareDispute(ctx: PrepareContext, event: DisputeEvent): Promise<PreparedDispute> {
  const dispute = event.data.object;
  const chargeId = idOf(dispute.charge);
  if (!disputeMovesMoney(event) || !chargeId) return { charge: null, metadata: null };
  const charge = typeof dispute.charge === 'object' ? dispute.charge : await ctx.deps.stripe.charges.retrieve(chargeId, {}, PREPARE_CALL);
  const link = await prepareChargeLink(ctx, charge);
  return { charge, metadata: link.metadata };
}

async function disputeFundsWithdrawn(ctx: ApplyContext, event: DisputeEvent, prepared: PreparedDispute): Promise<EventOutcome> {
  const dispute = event.data.object;
  if (!disputeMovesMoney(event)) return ignored(`dispute ${dispute.id} is an inquiry: no funds withdrawn`);
  const found = await checkoutForDispute(ctx, dispute, prepared);
  if (!found) return ignored(`dispute ${dispute.id} is not about a payment of this service`);
  const handler = handlerFor(ctx, found.checkout);
  if (!handler.onDisputeOpened) return ignored(`${found.checkout.purpose} payments take no disputes`);
  await handler.onDisputeOpened(handlerContext(ctx, found.checkout, event), disputeNotice(dispute, found));
  return applied(`dispute ${dispute.id} opened on ${found.checkout.purpose} ${found.checkout.record_id}`);
}

async function disputeClosed(ctx: ApplyContext, event: DisputeEvent, prepared: PreparedDispute): Promise<EventOutcome> {
  const dispute = event.data.object;
  if (!disputeMovesMoney(event)) return ignored(`dispute ${dispute.id} closed as ${dispute.status}: no funds moved`);
  const found = await checkoutForDispute(ctx, dispute, prepared);
  if (!found) return ignored(`dispute ${dispute.id} is not about a payment of this service`);
  const handler = handlerFor(ctx, found.checkout);
  if (!handler.onDisputeClosed) return ignored(`${found.checkout.purpose} payments take no disputes`);
  // Money given back by a won dispute is dated when the dispute closed.
  await handler.onDisputeClosed(handlerContext(ctx, found.checkout, event), disputeNotice(dispute, found, new Date(event.created * 1000)));
  return applied(`dispute ${dispute.id} ${dispute.status} on ${found.checkout.purpose} ${found.checkout.record_id}`);
}

interface DisputeLink {
  checkout: CheckoutSession;
  paymentIntentId: string;
  charge: Stripe.Charge;
}

async function checkoutForDispute(ctx: ApplyContext, dispute: Stripe.Dispute, prepared: PreparedDispute): Promise<DisputeLink | undefined> {
  const paymentIntentId = idOf(dispute.payment_intent);
  if (!paymentIntentId || !prepared.charge) return undefined;
  const checkout =
    (await findCheckoutByPaymentIntentId(ctx.trx, paymentIntentId, { forUpdate: true })) ??
    // The dispute beat the payment's own event, or it is not ours: only the charge can tell.
    (await checkoutForCharge(ctx, prepared.charge, prepared.metadata));
  return checkout && { checkout, paymentIntentId, charge: prepared.charge };
}

function disputeNotice(dispute: Stripe.Dispute, link: DisputeLink, at: Date = new Date(dispute.created * 1000)) {
  return {
    disputeId: dispute.id,
    paymentIntentId: link.paymentIntentId,
    amount: dispute.amount,
    currency: dispute.currency.toUpperCase(),
    status: dispute.status,
    at,
    originalPayment: () => Promise.resolve(paymentFromCharge(link.charge, link.paymentIntentId)),
  };
}

// ---- linking charges --------------------------------------------------------

/**
 * Before the transaction: the metadata that can name our checkout for a charge whose
 * PaymentIntent we have not stored yet (the charge's own, else its PaymentIntent's,
 * asked of Stripe), and whether the charge may be ours at all (so foreign charges
 * cost no more Stripe calls).
 */
async function prepareChargeLink(ctx: PrepareContext, charge: Stripe.Charge): Promise<{ metadata: Stripe.Metadata | null; maybeOurs: boolean }> {
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return { metadata: null, maybeOurs: false };
  if (charge.metadata.checkout_id) return { metadata: charge.metadata, maybeOurs: true };
  if (await findCheckoutByPaymentIntentId(ctx.deps.db, paymentIntentId)) return { metadata: null, maybeOurs: true };
  // Charges normally carry their PaymentIntent's metadata; ask the PaymentIntent when not.
  const metadata = await paymentIntentMetadata(ctx, paymentIntentId);
  return { metadata, maybeOurs: Boolean(metadata?.checkout_id) };
}

/** The PaymentIntent's metadata; null when Stripe does not know it on this account (so it is not ours). */
async function paymentIntentMetadata(ctx: PrepareContext, paymentIntentId: string): Promise<Stripe.Metadata | null> {
  try {
    return (await ctx.deps.stripe.paymentIntents.retrieve(paymentIntentId, {}, PREPARE_CALL)).metadata;
  } catch (err) {
    if (err instanceof ctx.deps.stripe.errors.StripeInvalidRequestError && err.code === 'resource_missing') return null;
    throw err;
  }
}

/**
 * Our checkout for a charge, in the transaction: by the stored PaymentIntent id, else
 * (the charge's event came first) by the metadata prepared before. Locked; fills in
 * the PaymentIntent id so later events find it directly.
 */
async function checkoutForCharge(ctx: ApplyContext, charge: Stripe.Charge, metadata: Stripe.Metadata | null): Promise<CheckoutSession | undefined> {
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return undefined;
  const byIntent = await findCheckoutByPaymentIntentId(ctx.trx, paymentIntentId, { forUpdate: true });
  if (byIntent) return byIntent;
  const candidate = await checkoutFromMetadata(ctx.trx, metadata ?? charge.metadata);
  if (!candidate || (candidate.payment_intent_id && candidate.payment_intent_id !== paymentIntentId)) return undefined;
  await lockCheckout(ctx.trx, candidate.id);
  return recordCheckoutProgress(ctx.trx, { id: candidate.id }, { paymentIntentId, now: ctx.deps.clock.now() });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The checkout our metadata names, only if every id in it agrees with our row. */
async function checkoutFromMetadata(db: Executor, metadata: Stripe.Metadata | null | undefined): Promise<CheckoutSession | undefined> {
  const checkoutId = metadata?.checkout_id;
  if (!checkoutId || !UUID.test(checkoutId)) return undefined;
  const checkout = await findCheckoutById(db, checkoutId);
  if (!checkout || checkout.record_id !== metadata.record_id || checkout.purpose !== metadata.purpose) return undefined;
  return checkout;
}

function paymentFromCharge(charge: Stripe.Charge, paymentIntentId: string): PaidPayment {
  return {
    paymentIntentId,
    amount: charge.amount,
    currency: charge.currency.toUpperCase(),
    paidAt: new Date(charge.created * 1000),
  };
}

// ---- helpers ----------------------------------------------------------------

function handlerFor(ctx: ApplyContext, checkout: CheckoutSession): PaymentHandler {
  const handler = ctx.handlers[checkout.purpose];
  // Thrown, not ignored: the event is retried until a handler exists.
  if (!handler) throw new Error(`no payment handler is registered for purpose '${checkout.purpose}'`);
  return handler;
}

function handlerContext(ctx: ApplyContext, checkout: CheckoutSession, event: Stripe.Event): PaymentHandlerContext {
  return { trx: ctx.trx, checkout, event };
}

/** Stripe fields that are an id, or the object itself when expanded. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}
