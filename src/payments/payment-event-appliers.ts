/**
 * The payments component's Stripe event appliers (see event-appliers.ts for the
 * prepare / apply shape): Checkout Sessions, refunds and disputes. Each finds our
 * checkout ONLY through ids we gave Stripe (the stored session id,
 * client_reference_id, metadata.checkout_id, the stored PaymentIntent id) and hands
 * the event to the PaymentHandler of that checkout's purpose (donation, share
 * application, ...). What Stripe must be asked (a charge's refunds, a charge, a
 * PaymentIntent's metadata, the invoice a PaymentIntent paid) is asked in `prepare`,
 * before the transaction.
 *
 * A subscription's invoice payments carry none of our metadata: their PaymentIntent
 * is linked to our checkout when its invoice.paid is applied (checkout_payments). A
 * refund or dispute that arrives before that finds the invoice the PaymentIntent paid
 * (Stripe's invoice payments), and through the invoice's subscription (the ids we
 * stored, or the metadata we gave it) our checkout; the handler then books the
 * invoice's payment first, so nothing is lost whatever the order.
 */
import type Stripe from 'stripe';
import type { CheckoutSession } from '../db/schema.js';
import type { Executor } from '../db/database.js';
import { findCheckoutFromMetadata } from './checkout.service.js';
import {
  findCheckoutByPaymentIntentId,
  findCheckoutBySubscriptionId,
  lockCheckout,
  recordCheckoutProgress,
  type CheckoutProgress,
} from './checkout.repository.js';
import { applied, ignored, type ApplyContext, type EventAppliers, type EventOutcome, type PrepareContext, type StripeEventOf } from './event-appliers.js';
import { idOf } from './stripe-ids.js';
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
  const candidate = await findCheckoutFromMetadata(ctx.trx, session.metadata);
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
    session,
  };
}

// ---- refunds ----------------------------------------------------------------

interface PreparedRefunds {
  /** How the charge may lead to our checkout (see ChargeLink). */
  link: ChargeLink;
  /** Every refund of the charge (in the pinned API version a charge no longer lists them); empty when the charge is not ours. */
  refunds: Stripe.Refund[];
}

async function prepareRefunds(ctx: PrepareContext, event: StripeEventOf<'charge.refunded'>): Promise<PreparedRefunds> {
  const charge = event.data.object;
  const link = await prepareChargeLink(ctx, charge);
  if (!link.maybeOurs) return { link, refunds: [] };
  const refunds: Stripe.Refund[] = [];
  for await (const refund of ctx.deps.stripe.refunds.list({ charge: charge.id, limit: 100 }, PREPARE_CALL)) refunds.push(refund);
  return { link, refunds };
}

async function chargeRefunded(ctx: ApplyContext, event: StripeEventOf<'charge.refunded'>, prepared: PreparedRefunds): Promise<EventOutcome> {
  const charge = event.data.object;
  const checkout = await checkoutForCharge(ctx, charge, prepared.link);
  if (!checkout) return ignored(`charge ${charge.id} is not a payment of this service`);
  const handler = handlerFor(ctx, checkout);
  if (!handler.onRefunded) return ignored(`${checkout.purpose} payments take no refunds`);

  // Each refund is handed over every time; the handler books each id once.
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) throw new Error(`charge ${charge.id} has no PaymentIntent`);
  const originalPayment = () => Promise.resolve(paymentFromCharge(charge, paymentIntentId, prepared.link.invoice));
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
  link: ChargeLink;
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
  if (!disputeMovesMoney(event) || !chargeId) return { charge: null, link: NOT_LINKED };
  const charge = typeof dispute.charge === 'object' ? dispute.charge : await ctx.deps.stripe.charges.retrieve(chargeId, {}, PREPARE_CALL);
  return { charge, link: await prepareChargeLink(ctx, charge) };
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
  invoice: Stripe.Invoice | null;
}

async function checkoutForDispute(ctx: ApplyContext, dispute: Stripe.Dispute, prepared: PreparedDispute): Promise<DisputeLink | undefined> {
  const paymentIntentId = idOf(dispute.payment_intent);
  if (!paymentIntentId || !prepared.charge) return undefined;
  const checkout =
    (await findCheckoutByPaymentIntentId(ctx.trx, paymentIntentId, { forUpdate: true })) ??
    // The dispute beat the payment's own event, or it is not ours: only the charge can tell.
    (await checkoutForCharge(ctx, prepared.charge, prepared.link));
  return checkout && { checkout, paymentIntentId, charge: prepared.charge, invoice: prepared.link.invoice };
}

function disputeNotice(dispute: Stripe.Dispute, link: DisputeLink, at: Date = new Date(dispute.created * 1000)) {
  return {
    disputeId: dispute.id,
    paymentIntentId: link.paymentIntentId,
    amount: dispute.amount,
    currency: dispute.currency.toUpperCase(),
    status: dispute.status,
    at,
    originalPayment: () => Promise.resolve(paymentFromCharge(link.charge, link.paymentIntentId, link.invoice)),
  };
}

// ---- linking charges --------------------------------------------------------

/** What `prepare` learnt about how a charge may lead to our checkout. */
interface ChargeLink {
  /** The metadata naming our checkout: the charge's, else (fetched) its PaymentIntent's; null when neither names one. */
  metadata: Stripe.Metadata | null;
  /**
   * The invoice the charge's PaymentIntent paid, fetched only when nothing else links the charge to us and
   * the invoice's subscription may be one of ours (a refund or dispute before its invoice.paid); else null.
   */
  invoice: Stripe.Invoice | null;
  /** Whether the charge may be ours at all (so foreign charges cost no more Stripe calls). */
  maybeOurs: boolean;
}

const NOT_LINKED: ChargeLink = { metadata: null, invoice: null, maybeOurs: false };

/**
 * Before the transaction: what can name our checkout for a charge whose PaymentIntent we have
 * not stored yet: the charge's own metadata, else its PaymentIntent's, else (a subscription's
 * payment) the invoice it paid, each asked of Stripe only when the one before says nothing.
 */
async function prepareChargeLink(ctx: PrepareContext, charge: Stripe.Charge): Promise<ChargeLink> {
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return NOT_LINKED;
  if (charge.metadata.checkout_id) return { metadata: charge.metadata, invoice: null, maybeOurs: true };
  if (await findCheckoutByPaymentIntentId(ctx.deps.db, paymentIntentId)) return { metadata: null, invoice: null, maybeOurs: true };
  // Charges normally carry their PaymentIntent's metadata; ask the PaymentIntent when not.
  const metadata = await paymentIntentMetadata(ctx, paymentIntentId);
  if (metadata === null) return NOT_LINKED;
  if (metadata.checkout_id) return { metadata, invoice: null, maybeOurs: true };
  const invoice = await invoicePaidBy(ctx, paymentIntentId);
  if (!invoice || !(await invoiceMaybeOurs(ctx.deps.db, invoice))) return { metadata, invoice: null, maybeOurs: false };
  return { metadata, invoice, maybeOurs: true };
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
 * The invoice a PaymentIntent paid, asked of Stripe (in the pinned API version neither a charge nor a
 * PaymentIntent names its invoice: the invoice's payments name the PaymentIntent); null when it paid none.
 */
async function invoicePaidBy(ctx: PrepareContext, paymentIntentId: string): Promise<Stripe.Invoice | null> {
  const payments = await ctx.deps.stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: paymentIntentId }, limit: 10 }, PREPARE_CALL);
  const invoiceId = idOf(payments.data.find((p) => p.status === 'paid')?.invoice);
  if (!invoiceId) return null;
  return ctx.deps.stripe.invoices.retrieve(invoiceId, {}, PREPARE_CALL);
}

/** The subscription an invoice belongs to, and the metadata we gave that subscription (a snapshot on the invoice). */
export function subscriptionOfInvoice(invoice: Stripe.Invoice): { subscriptionId: string | null; metadata: Stripe.Metadata | null } {
  const details = invoice.parent?.subscription_details;
  return { subscriptionId: idOf(details?.subscription), metadata: details?.metadata ?? null };
}

/** Whether an invoice's subscription may be one we started: it names our checkout, or we stored its id. */
async function invoiceMaybeOurs(db: Executor, invoice: Stripe.Invoice): Promise<boolean> {
  const { subscriptionId, metadata } = subscriptionOfInvoice(invoice);
  if (!subscriptionId) return false;
  return Boolean(metadata?.checkout_id) || Boolean(await findCheckoutBySubscriptionId(db, subscriptionId));
}

/**
 * Our checkout for a charge, in the transaction: by the stored PaymentIntent id, else (the charge's
 * event came first) by the invoice it paid or the metadata prepared before. Locked. A one-off
 * payment's PaymentIntent id is filled in so later events find it directly; a subscription's is
 * recorded when its invoice is booked.
 */
async function checkoutForCharge(ctx: ApplyContext, charge: Stripe.Charge, link: ChargeLink): Promise<CheckoutSession | undefined> {
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return undefined;
  const byIntent = await findCheckoutByPaymentIntentId(ctx.trx, paymentIntentId, { forUpdate: true });
  if (byIntent) return byIntent;
  if (link.invoice) return checkoutForInvoice(ctx, link.invoice);
  const candidate = await findCheckoutFromMetadata(ctx.trx, link.metadata ?? charge.metadata);
  if (!candidate || (candidate.payment_intent_id && candidate.payment_intent_id !== paymentIntentId)) return undefined;
  await lockCheckout(ctx.trx, candidate.id);
  return recordCheckoutProgress(ctx.trx, { id: candidate.id }, { paymentIntentId, now: ctx.deps.clock.now() });
}

/** The checkout that started the invoice's subscription: by the subscription id we stored, else by the metadata we gave it. Locked. */
async function checkoutForInvoice(ctx: ApplyContext, invoice: Stripe.Invoice): Promise<CheckoutSession | undefined> {
  const { subscriptionId, metadata } = subscriptionOfInvoice(invoice);
  if (!subscriptionId) return undefined;
  const stored = await findCheckoutBySubscriptionId(ctx.trx, subscriptionId, { forUpdate: true });
  if (stored) return stored;
  const candidate = await findCheckoutFromMetadata(ctx.trx, metadata);
  if (!candidate || candidate.mode !== 'subscription') return undefined;
  const locked = await lockCheckout(ctx.trx, candidate.id);
  if (!locked || (locked.subscription_id && locked.subscription_id !== subscriptionId)) return undefined;
  return locked;
}

function paymentFromCharge(charge: Stripe.Charge, paymentIntentId: string, invoice: Stripe.Invoice | null): PaidPayment {
  return {
    paymentIntentId,
    amount: charge.amount,
    currency: charge.currency.toUpperCase(),
    paidAt: new Date(charge.created * 1000),
    chargeId: charge.id,
    ...(invoice ? { invoice } : {}),
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
