/**
 * What each Stripe event type does to our records. The inbox's processor
 * (webhooks.service.ts) calls `dispatchEvent` inside the event's transaction; an applier finds our record
 * ONLY through ids we gave Stripe (the stored session id, client_reference_id,
 * metadata.checkout_id, the stored PaymentIntent id), never by email, and hands the
 * event to the PaymentHandler of that record's purpose. Events about objects we did
 * not create (a Stripe account shared with a shop) are 'ignored'.
 *
 * A thrown error rolls the whole event back; the processor then records the
 * failure and queues a retry. So appliers may throw freely, but must never leave
 * half an event applied outside the transaction.
 */
import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import type { CheckoutSession, DB } from '../db/schema.js';
import {
  findCheckoutById,
  findCheckoutByPaymentIntentId,
  lockCheckout,
  recordCheckoutProgress,
  type CheckoutProgress,
} from './checkout.repository.js';
import type { PaidPayment, PaymentHandler, PaymentHandlerContext, PaymentHandlers } from './payment-handlers.js';

export interface DispatchContext {
  deps: AppDeps;
  trx: Transaction<DB>;
  handlers: PaymentHandlers;
  event: Stripe.Event;
}

export interface EventOutcome {
  outcome: 'applied' | 'ignored';
  note: string | null;
}

export type EventApplier = (ctx: DispatchContext) => Promise<EventOutcome>;

/**
 * Stripe calls made while the event's transaction holds its locks: short, and not
 * retried here. A slow or failing call fails the event, which our retry job applies later,
 * so the processor's queue keeps moving and no lock is held for long.
 */
const INLINE_CALL = { timeout: 1500, maxNetworkRetries: 0 } as const;

const applied = (note: string | null = null): EventOutcome => ({ outcome: 'applied', note });
const ignored = (note: string): EventOutcome => ({ outcome: 'ignored', note });

/** Event type -> what it does. Types not listed are acknowledged and ignored. */
export const eventAppliers: Readonly<Record<string, EventApplier>> = {
  'checkout.session.completed': sessionCompleted,
  'checkout.session.async_payment_succeeded': asyncPaymentSucceeded,
  'checkout.session.async_payment_failed': (ctx) => sessionFailed(ctx, 'async_payment_failed'),
  'checkout.session.expired': (ctx) => sessionFailed(ctx, 'expired'),
  'charge.refunded': chargeRefunded,
  'charge.dispute.created': disputeFundsWithdrawn,
  // An inquiry that escalates withdraws funds later; the same 'dispute:dp_..' key keeps it once.
  'charge.dispute.funds_withdrawn': disputeFundsWithdrawn,
  'charge.dispute.closed': disputeClosed,
  // Supporters: 'invoice.paid', 'invoice.payment_failed' and 'customer.subscription.created' /
  // 'updated' / 'deleted' / 'paused' / 'resumed' belong here. Subscription state must be applied
  // by the event's `created` time (keep it beside the state), so a late, older event never
  // overwrites a newer one; invoices book with stripeKey 'invoice:in_..'.
};

/** Applies one event inside `ctx.trx`; throws to have the whole event rolled back and retried. */
export async function dispatchEvent(ctx: DispatchContext, appliers: Readonly<Record<string, EventApplier>> = eventAppliers): Promise<EventOutcome> {
  const apply = Object.hasOwn(appliers, ctx.event.type) ? appliers[ctx.event.type] : undefined;
  if (!apply) return ignored(`event type ${ctx.event.type} is not handled`);
  return apply(ctx);
}

// ---- checkout sessions ------------------------------------------------------

async function sessionCompleted(ctx: DispatchContext): Promise<EventOutcome> {
  const session = ctx.event.data.object as Stripe.Checkout.Session;
  const checkout = await progressSession(ctx, session, {
    status: 'complete',
    paymentStatus: session.payment_status,
    paymentIntentId: idOf(session.payment_intent),
    customerId: idOf(session.customer),
    subscriptionId: idOf(session.subscription),
  });
  if (!checkout) return ignored(`checkout session ${session.id} was not created by this service`);
  const handler = handlerFor(ctx, checkout);
  const hc = handlerContext(ctx, checkout);
  if (session.payment_status === 'paid' || session.payment_status === 'no_payment_required') {
    const outcome = await handler.onPaid(hc, paymentFromSession(ctx, checkout, session));
    return applied(outcome || `${checkout.purpose} ${checkout.record_id} paid`);
  }
  // 'unpaid' on a completed session: a Bacs Direct Debit was submitted, money not yet confirmed.
  await handler.onProcessing?.(hc);
  return applied(`${checkout.purpose} ${checkout.record_id} processing`);
}

async function asyncPaymentSucceeded(ctx: DispatchContext): Promise<EventOutcome> {
  const session = ctx.event.data.object as Stripe.Checkout.Session;
  const checkout = await progressSession(ctx, session, {
    status: 'complete',
    paymentStatus: 'paid',
    paymentIntentId: idOf(session.payment_intent),
    customerId: idOf(session.customer),
  });
  if (!checkout) return ignored(`checkout session ${session.id} was not created by this service`);
  const outcome = await handlerFor(ctx, checkout).onPaid(handlerContext(ctx, checkout), paymentFromSession(ctx, checkout, session));
  return applied(outcome ? `${outcome} (async)` : `${checkout.purpose} ${checkout.record_id} paid (async)`);
}

async function sessionFailed(ctx: DispatchContext, reason: 'async_payment_failed' | 'expired'): Promise<EventOutcome> {
  const session = ctx.event.data.object as Stripe.Checkout.Session;
  const checkout = await progressSession(ctx, session, {
    status: reason === 'expired' ? 'expired' : 'complete',
    paymentStatus: session.payment_status,
    paymentIntentId: idOf(session.payment_intent),
  });
  if (!checkout) return ignored(`checkout session ${session.id} was not created by this service`);
  await handlerFor(ctx, checkout).onFailed?.(handlerContext(ctx, checkout), reason);
  return applied(`${checkout.purpose} ${checkout.record_id} ${reason}`);
}

/**
 * Records the session's progress on our checkout row, found by the stored session id,
 * else by the ids we put in the session. The update locks the row for the rest of the
 * event's transaction. undefined when the session is not ours.
 */
async function progressSession(
  ctx: DispatchContext,
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

function paymentFromSession(ctx: DispatchContext, checkout: CheckoutSession, session: Stripe.Checkout.Session): PaidPayment {
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
    paidAt: new Date(ctx.event.created * 1000),
  };
}

// ---- refunds ----------------------------------------------------------------

async function chargeRefunded(ctx: DispatchContext): Promise<EventOutcome> {
  const charge = ctx.event.data.object as Stripe.Charge;
  const checkout = await checkoutForCharge(ctx, charge);
  if (!checkout) return ignored(`charge ${charge.id} is not a payment of this service`);
  const handler = handlerFor(ctx, checkout);
  if (!handler.onRefunded) return ignored(`${checkout.purpose} payments take no refunds`);

  // In the pinned API version a charge no longer lists its refunds: ask for them.
  // Each refund is handed over every time; the handler books each id once.
  const refunds: Stripe.Refund[] = [];
  for await (const refund of ctx.deps.stripe.refunds.list({ charge: charge.id, limit: 100 }, INLINE_CALL)) refunds.push(refund);

  const paymentIntentId = idOf(charge.payment_intent)!;
  const originalPayment = async (): Promise<PaidPayment> => paymentFromCharge(charge);
  const hc = handlerContext(ctx, checkout);
  let passed = 0;
  for (const refund of refunds) {
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

async function disputeFundsWithdrawn(ctx: DispatchContext): Promise<EventOutcome> {
  const dispute = ctx.event.data.object as Stripe.Dispute;
  // An inquiry (warning_*) or a prevented dispute moves no money.
  if (dispute.status.startsWith('warning_') || dispute.status === 'prevented') return ignored(`dispute ${dispute.id} is an inquiry: no funds withdrawn`);
  const found = await checkoutForDispute(ctx, dispute);
  if (!found) return ignored(`dispute ${dispute.id} is not about a payment of this service`);
  const handler = handlerFor(ctx, found.checkout);
  if (!handler.onDisputeOpened) return ignored(`${found.checkout.purpose} payments take no disputes`);
  await handler.onDisputeOpened(handlerContext(ctx, found.checkout), disputeNotice(dispute, found));
  return applied(`dispute ${dispute.id} opened on ${found.checkout.purpose} ${found.checkout.record_id}`);
}

async function disputeClosed(ctx: DispatchContext): Promise<EventOutcome> {
  const dispute = ctx.event.data.object as Stripe.Dispute;
  if (dispute.status !== 'won' && dispute.status !== 'lost') return ignored(`dispute ${dispute.id} closed as ${dispute.status}: no funds moved`);
  const found = await checkoutForDispute(ctx, dispute);
  if (!found) return ignored(`dispute ${dispute.id} is not about a payment of this service`);
  const handler = handlerFor(ctx, found.checkout);
  if (!handler.onDisputeClosed) return ignored(`${found.checkout.purpose} payments take no disputes`);
  // Money given back by a won dispute is dated when the dispute closed.
  await handler.onDisputeClosed(handlerContext(ctx, found.checkout), disputeNotice(dispute, found, new Date(ctx.event.created * 1000)));
  return applied(`dispute ${dispute.id} ${dispute.status} on ${found.checkout.purpose} ${found.checkout.record_id}`);
}

interface DisputeLink {
  checkout: CheckoutSession;
  paymentIntentId: string;
  charge: () => Promise<Stripe.Charge>;
}

async function checkoutForDispute(ctx: DispatchContext, dispute: Stripe.Dispute): Promise<DisputeLink | undefined> {
  const chargeId = idOf(dispute.charge);
  let cached: Promise<Stripe.Charge> | undefined;
  const charge = () => (cached ??= typeof dispute.charge === 'object' ? Promise.resolve(dispute.charge) : ctx.deps.stripe.charges.retrieve(chargeId!, {}, INLINE_CALL));
  const paymentIntentId = idOf(dispute.payment_intent);
  if (paymentIntentId) {
    const checkout = await findCheckoutByPaymentIntentId(ctx.trx, paymentIntentId, { forUpdate: true });
    if (checkout) return { checkout, paymentIntentId, charge };
  }
  // The dispute beat the payment's own event, or it is not ours: only the charge can tell.
  if (!chargeId || !paymentIntentId) return undefined;
  const checkout = await checkoutForCharge(ctx, await charge());
  return checkout && { checkout, paymentIntentId, charge };
}

function disputeNotice(dispute: Stripe.Dispute, link: DisputeLink, at: Date = new Date(dispute.created * 1000)) {
  return {
    disputeId: dispute.id,
    paymentIntentId: link.paymentIntentId,
    amount: dispute.amount,
    currency: dispute.currency.toUpperCase(),
    status: dispute.status,
    at,
    originalPayment: async () => paymentFromCharge(await link.charge()),
  };
}

// ---- linking charges --------------------------------------------------------

/**
 * Our checkout for a charge: by the stored PaymentIntent id, else (the charge's event
 * came first) by the metadata we gave the PaymentIntent. Locked; fills in the
 * PaymentIntent id so later events find it directly.
 */
async function checkoutForCharge(ctx: DispatchContext, charge: Stripe.Charge): Promise<CheckoutSession | undefined> {
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return undefined;
  const byIntent = await findCheckoutByPaymentIntentId(ctx.trx, paymentIntentId, { forUpdate: true });
  if (byIntent) return byIntent;

  let metadata: Stripe.Metadata | null = charge.metadata;
  if (!metadata?.checkout_id) {
    // Charges normally carry their PaymentIntent's metadata; ask the PaymentIntent when not.
    metadata = await paymentIntentMetadata(ctx, paymentIntentId);
  }
  const candidate = await checkoutFromMetadata(ctx.trx, metadata);
  if (!candidate || (candidate.payment_intent_id && candidate.payment_intent_id !== paymentIntentId)) return undefined;
  await lockCheckout(ctx.trx, candidate.id);
  return recordCheckoutProgress(ctx.trx, { id: candidate.id }, { paymentIntentId, now: ctx.deps.clock.now() });
}

/** The PaymentIntent's metadata; null when Stripe does not know it on this account (so it is not ours). */
async function paymentIntentMetadata(ctx: DispatchContext, paymentIntentId: string): Promise<Stripe.Metadata | null> {
  try {
    return (await ctx.deps.stripe.paymentIntents.retrieve(paymentIntentId, {}, INLINE_CALL)).metadata;
  } catch (err) {
    if ((err as { code?: string }).code === 'resource_missing') return null;
    throw err;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The checkout our metadata names, only if every id in it agrees with our row. */
async function checkoutFromMetadata(trx: Transaction<DB>, metadata: Stripe.Metadata | null | undefined): Promise<CheckoutSession | undefined> {
  const checkoutId = metadata?.checkout_id;
  if (!checkoutId || !UUID.test(checkoutId)) return undefined;
  const checkout = await findCheckoutById(trx, checkoutId);
  if (!checkout || checkout.record_id !== metadata.record_id || checkout.purpose !== metadata.purpose) return undefined;
  return checkout;
}

function paymentFromCharge(charge: Stripe.Charge): PaidPayment {
  return {
    paymentIntentId: idOf(charge.payment_intent)!,
    amount: charge.amount,
    currency: charge.currency.toUpperCase(),
    paidAt: new Date(charge.created * 1000),
  };
}

// ---- helpers ----------------------------------------------------------------

function handlerFor(ctx: DispatchContext, checkout: CheckoutSession): PaymentHandler {
  const handler = ctx.handlers[checkout.purpose];
  // Thrown, not ignored: the event stays queued for retry until a handler exists.
  if (!handler) throw new Error(`no payment handler is registered for purpose '${checkout.purpose}'`);
  return handler;
}

function handlerContext(ctx: DispatchContext, checkout: CheckoutSession): PaymentHandlerContext {
  return { trx: ctx.trx, checkout, event: ctx.event };
}

/** Stripe fields that are an id, or the object itself when expanded. */
function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}
