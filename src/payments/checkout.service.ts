/**
 * Creating a Stripe Checkout Session for one of our records (a donation, a share
 * application, ...). Our checkout row exists before Stripe hears of it, and its id
 * is the idempotency key, so a retry after a failure or a lost answer can never
 * create a second session that could be paid twice.
 */
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import type { CheckoutPurpose, CheckoutSession } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { paymentProviderError, type PaymentProviderErrorCode } from './stripe-errors.js';
import type { Executor } from '../db/database.js';
import {
  findCheckoutById,
  findCheckoutByRecord,
  findCheckoutByStripeSessionId,
  findCheckoutPaymentByIntent,
  insertOrFindCheckout,
  markCheckoutOpen,
  recordCheckoutPayment,
} from './checkout.repository.js';

export type { CheckoutPurpose };

export type CheckoutErrorCode = PaymentProviderErrorCode | 'checkout_closed';

export interface CheckoutRequest {
  purpose: CheckoutPurpose;
  recordId: string;
  /** 'subscription': Stripe Billing charges `amount` every `recurring.interval` (supporters). */
  mode: 'payment' | 'subscription';
  recurring?: { interval: 'month' | 'year' };
  amount: number;
  currency: string;
  lineItems: { name: string; quantity: number; unitAmount: number }[];
  customerEmail: string;
  submitType?: 'donate' | 'pay';
  /** PUBLIC_URL-relative return paths; default /checkout/success and /checkout/cancelled */
  successPath?: string;
  cancelPath?: string;
}

/** The metadata every session, PaymentIntent (and so its charges) carries: how an event finds our record. */
export interface CheckoutMetadata {
  purpose: CheckoutPurpose;
  record_id: string;
  checkout_id: string;
  [key: string]: string;
}

/**
 * Creates (or, for a record that already has one, reuses) the Checkout Session and
 * returns its URL. Throws 502 payment_provider_unavailable when Stripe does not answer
 * (payment_provider_error when it refuses the request: see stripe-errors.ts);
 * calling again for the same record then retries with the same idempotency key.
 */
export async function createCheckout(deps: AppDeps, request: CheckoutRequest): Promise<{ checkoutId: string; url: string }> {
  assertConsistent(request);
  const { checkout } = await insertOrFindCheckout(deps.db, {
    purpose: request.purpose,
    recordId: request.recordId,
    mode: request.mode,
    amount: request.amount,
    currency: request.currency,
    now: deps.clock.now(),
  });
  if (checkout.status === 'open' && checkout.url) return { checkoutId: checkout.id, url: checkout.url };
  if (checkout.status !== 'creating') {
    throw new AppError<CheckoutErrorCode>({ code: 'checkout_closed', status: 409, message: 'This payment has already been completed or has expired.' });
  }
  if (checkout.amount !== request.amount || checkout.currency.trim() !== request.currency) {
    throw new Error(`checkout ${checkout.id} was started for a different amount`);
  }

  let session: Stripe.Checkout.Session;
  try {
    session = await deps.stripe.checkout.sessions.create(checkoutSessionParams(deps, checkout.id, request), {
      idempotencyKey: checkoutIdempotencyKey(checkout.id),
    });
  } catch (err) {
    throw paymentProviderError(deps.logger, err, { checkoutId: checkout.id, purpose: request.purpose }, 'the payment page was not opened and nothing has been charged');
  }
  if (!session.url) throw new Error(`Stripe returned Checkout Session ${session.id} without a URL`);
  await markCheckoutOpen(deps.db, checkout.id, { stripeSessionId: session.id, url: session.url, now: deps.clock.now() });
  deps.logger.info({ checkoutId: checkout.id, stripeSessionId: session.id, purpose: request.purpose }, 'checkout session created');
  return { checkoutId: checkout.id, url: session.url };
}

/** The key Stripe deduplicates session creation by: derived from our row, stable across retries. */
export function checkoutIdempotencyKey(checkoutId: string): string {
  return `checkout-session:${checkoutId}`;
}

function checkoutSessionParams(deps: AppDeps, checkoutId: string, request: CheckoutRequest): Stripe.Checkout.SessionCreateParams {
  const metadata: CheckoutMetadata = { purpose: request.purpose, record_id: request.recordId, checkout_id: checkoutId };
  const base = deps.config.publicUrl;
  const successPath = request.successPath ?? '/checkout/success';
  const cancelPath = request.cancelPath ?? '/checkout/cancelled';
  // Stripe fills in {CHECKOUT_SESSION_ID}; it must stay unencoded.
  const successUrl = `${base}${successPath}${successPath.includes('?') ? '&' : '?'}session_id={CHECKOUT_SESSION_ID}`;
  const lineItems = request.lineItems.map((item) => ({
    quantity: item.quantity,
    price_data: {
      currency: request.currency.toLowerCase(),
      unit_amount: item.unitAmount,
      product_data: { name: item.name },
      ...(request.mode === 'subscription' && request.recurring ? { recurring: { interval: request.recurring.interval } } : {}),
    },
  }));
  if (request.mode === 'subscription') {
    return {
      mode: 'subscription',
      line_items: lineItems,
      customer_email: request.customerEmail,
      client_reference_id: request.recordId,
      metadata,
      // Copied onto the subscription (and so onto each invoice's parent.subscription_details): its events lead back to us.
      subscription_data: { metadata },
      success_url: successUrl,
      cancel_url: `${base}${cancelPath}`,
    };
  }
  return {
    mode: 'payment',
    line_items: lineItems,
    customer_email: request.customerEmail,
    client_reference_id: request.recordId,
    metadata,
    // Copied onto the PaymentIntent, so its charges, refunds and disputes lead back to us too.
    payment_intent_data: { metadata },
    ...(request.submitType ? { submit_type: request.submitType } : {}),
    success_url: successUrl,
    cancel_url: `${base}${cancelPath}`,
  };
}

function assertConsistent(request: CheckoutRequest): void {
  const sum = request.lineItems.reduce((total, item) => total + item.quantity * item.unitAmount, 0);
  if (request.mode === 'subscription' && !request.recurring) throw new Error(`subscription checkout for ${request.recordId} needs an interval`);
  if (request.lineItems.length === 0 || sum !== request.amount || !Number.isSafeInteger(request.amount) || request.amount <= 0) {
    throw new Error(`checkout for ${request.purpose} ${request.recordId}: line items (${sum}) do not add up to the amount (${request.amount})`);
  }
}

export type CheckoutReturnState = 'confirmed' | 'processing' | 'confirming' | 'expired' | 'unknown';

/**
 * What the success page may say about a session id from the browser's address bar.
 * It reveals nothing but the state of a payment whose (unguessable) session id the caller holds.
 */
export async function checkoutReturnState(
  deps: AppDeps,
  sessionId: string | undefined,
): Promise<{ state: CheckoutReturnState; purpose?: CheckoutPurpose; recordId?: string }> {
  if (!sessionId || !/^cs_[A-Za-z0-9_]{1,250}$/.test(sessionId)) return { state: 'unknown' };
  const checkout: CheckoutSession | undefined = await findCheckoutByStripeSessionId(deps.db, sessionId);
  if (!checkout) return { state: 'unknown' };
  const state: CheckoutReturnState =
    checkout.payment_status === 'paid' || checkout.payment_status === 'no_payment_required'
      ? 'confirmed'
      : checkout.status === 'complete'
        ? 'processing'
        : checkout.status === 'expired'
          ? 'expired'
          : 'confirming';
  return { state, purpose: checkout.purpose, recordId: checkout.record_id };
}

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Our checkout that `metadata` (as we gave it to Stripe: on a session, a PaymentIntent,
 * a charge, or a subscription's invoices as parent.subscription_details) names, only if
 * every id in it agrees with our row, and (when `purpose` is given) it is of that purpose.
 */
export async function findCheckoutFromMetadata(
  db: Executor,
  metadata: Record<string, string> | null | undefined,
  purpose?: CheckoutPurpose,
): Promise<CheckoutSession | undefined> {
  const checkoutId = metadata?.checkout_id;
  if (!checkoutId || !UUID_SHAPE.test(checkoutId) || (purpose !== undefined && metadata.purpose !== purpose)) return undefined;
  const checkout = await findCheckoutById(db, checkoutId);
  if (!checkout || checkout.purpose !== metadata.purpose || checkout.record_id !== metadata.record_id) return undefined;
  return checkout;
}

// ---- for components whose checkouts lead to more payments (supporters) --------------

/** The checkout of one of our records (e.g. a supporter's subscription checkout). */
export function findCheckoutOfRecord(db: Executor, purpose: CheckoutPurpose, recordId: string): Promise<CheckoutSession | undefined> {
  return findCheckoutByRecord(db, purpose, recordId);
}

/**
 * Makes a further payment of a checkout (a subscription's paid invoice) findable by its
 * PaymentIntent, so charge.refunded and charge.dispute.* reach the checkout's handler.
 */
export function recordFurtherPayment(
  db: Executor,
  p: { paymentIntentId: string; checkoutId: string; invoiceId: string; chargeId: string | null; amount: number; currency: string; paidAt: Date },
): Promise<void> {
  return recordCheckoutPayment(db, p);
}

/** The invoice a PaymentIntent paid, when it is a further payment of one of our checkouts. */
export async function invoiceOfPaymentIntent(db: Executor, paymentIntentId: string): Promise<string | undefined> {
  return (await findCheckoutPaymentByIntent(db, paymentIntentId))?.invoice_id;
}
