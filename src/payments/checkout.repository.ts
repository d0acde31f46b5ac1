/** SQL for checkout_sessions: the link between Stripe's ids and our records. */
import type { Executor } from '../db/database.js';
import type { CheckoutPurpose, CheckoutSession } from '../db/schema.js';

export interface NewCheckout {
  purpose: CheckoutPurpose;
  recordId: string;
  mode: 'payment' | 'subscription';
  amount: number;
  currency: string;
  now: Date;
}

/** Inserts the row, or returns the one already there for the same record (a retried request). */
export async function insertOrFindCheckout(db: Executor, input: NewCheckout): Promise<{ checkout: CheckoutSession; created: boolean }> {
  const inserted = await db
    .insertInto('checkout_sessions')
    .values({
      purpose: input.purpose,
      record_id: input.recordId,
      mode: input.mode,
      amount: input.amount,
      currency: input.currency,
      status: 'creating',
      created_at: input.now,
      updated_at: input.now,
    })
    .onConflict((oc) => oc.columns(['purpose', 'record_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { checkout: inserted, created: true };
  const existing = await db
    .selectFrom('checkout_sessions')
    .selectAll()
    .where('purpose', '=', input.purpose)
    .where('record_id', '=', input.recordId)
    .executeTakeFirstOrThrow();
  return { checkout: existing, created: false };
}

export async function markCheckoutOpen(
  db: Executor,
  id: string,
  session: { stripeSessionId: string; url: string; now: Date },
): Promise<void> {
  await db
    .updateTable('checkout_sessions')
    .set({ stripe_session_id: session.stripeSessionId, url: session.url, status: 'open', updated_at: session.now })
    .where('id', '=', id)
    .where('status', '=', 'creating')
    .execute();
}

export function findCheckoutById(db: Executor, id: string): Promise<CheckoutSession | undefined> {
  return db.selectFrom('checkout_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findCheckoutByStripeSessionId(
  db: Executor,
  sessionId: string,
  options: { forUpdate?: boolean } = {},
): Promise<CheckoutSession | undefined> {
  const query = db.selectFrom('checkout_sessions').selectAll().where('stripe_session_id', '=', sessionId);
  return (options.forUpdate ? query.forUpdate() : query).executeTakeFirst();
}

/**
 * The checkout a PaymentIntent paid: its own (one-off payments), or the one whose further
 * payments it is among (a subscription's invoices, in checkout_payments).
 */
export function findCheckoutByPaymentIntentId(
  db: Executor,
  paymentIntentId: string,
  options: { forUpdate?: boolean } = {},
): Promise<CheckoutSession | undefined> {
  const query = db
    .selectFrom('checkout_sessions')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('payment_intent_id', '=', paymentIntentId),
        eb('id', '=', eb.selectFrom('checkout_payments').select('checkout_id').where('payment_intent_id', '=', paymentIntentId)),
      ]),
    );
  return (options.forUpdate ? query.forUpdate() : query).executeTakeFirst();
}

/** The checkout that started a Stripe subscription (its id is stored once the session completes). */
export function findCheckoutBySubscriptionId(db: Executor, subscriptionId: string, options: { forUpdate?: boolean } = {}): Promise<CheckoutSession | undefined> {
  const query = db.selectFrom('checkout_sessions').selectAll().where('subscription_id', '=', subscriptionId);
  return (options.forUpdate ? query.forUpdate() : query).executeTakeFirst();
}

/** Records a further payment of a checkout (a paid invoice); the first record per invoice stands. */
export async function recordCheckoutPayment(
  db: Executor,
  p: { paymentIntentId: string; checkoutId: string; invoiceId: string; chargeId: string | null; amount: number; currency: string; paidAt: Date },
): Promise<void> {
  await db
    .insertInto('checkout_payments')
    .values({
      payment_intent_id: p.paymentIntentId,
      checkout_id: p.checkoutId,
      invoice_id: p.invoiceId,
      charge_id: p.chargeId,
      amount: p.amount,
      currency: p.currency,
      paid_at: p.paidAt,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** The invoice a PaymentIntent paid, when it is one of a checkout's further payments. */
export function findCheckoutPaymentByIntent(db: Executor, paymentIntentId: string) {
  return db.selectFrom('checkout_payments').selectAll().where('payment_intent_id', '=', paymentIntentId).executeTakeFirst();
}

export function findCheckoutByRecord(db: Executor, purpose: CheckoutPurpose, recordId: string): Promise<CheckoutSession | undefined> {
  return db
    .selectFrom('checkout_sessions')
    .selectAll()
    .where('purpose', '=', purpose)
    .where('record_id', '=', recordId)
    .executeTakeFirst();
}

/** Locks the checkout row for the rest of the transaction, so events about one payment apply one at a time. */
export function lockCheckout(db: Executor, id: string): Promise<CheckoutSession | undefined> {
  return db.selectFrom('checkout_sessions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export interface CheckoutProgress {
  stripeSessionId?: string;
  status?: 'complete' | 'expired';
  paymentStatus?: string | null;
  paymentIntentId?: string | null;
  customerId?: string | null;
  subscriptionId?: string | null;
  now: Date;
}

/**
 * Records what Stripe told us about the session. Ids are only ever filled in, never
 * replaced, and a payment_status of 'paid' is never taken back by an older event.
 */
export async function recordCheckoutProgress(
  db: Executor,
  key: { id: string } | { stripeSessionId: string },
  p: CheckoutProgress,
): Promise<CheckoutSession | undefined> {
  return db
    .updateTable('checkout_sessions')
    .set((eb) => ({
      updated_at: p.now,
      ...(p.stripeSessionId ? { stripe_session_id: eb.fn.coalesce('stripe_session_id', eb.val(p.stripeSessionId)) } : {}),
      ...(p.paymentIntentId ? { payment_intent_id: eb.fn.coalesce('payment_intent_id', eb.val(p.paymentIntentId)) } : {}),
      ...(p.customerId ? { customer_id: eb.fn.coalesce('customer_id', eb.val(p.customerId)) } : {}),
      ...(p.subscriptionId ? { subscription_id: eb.fn.coalesce('subscription_id', eb.val(p.subscriptionId)) } : {}),
      ...(p.status
        ? {
            // 'complete' wins over 'expired': a session that was paid stays paid.
            status: eb.case().when('status', '=', 'complete').then('complete' as const).else(p.status).end(),
          }
        : {}),
      ...(p.paymentStatus
        ? {
            payment_status: eb
              .case()
              .when('payment_status', 'in', ['paid', 'no_payment_required'])
              .then(eb.ref('payment_status'))
              .else(p.paymentStatus)
              .end(),
          }
        : {}),
    }))
    .where((eb) => ('id' in key ? eb('id', '=', key.id) : eb('stripe_session_id', '=', key.stripeSessionId)))
    .returningAll()
    .executeTakeFirst();
}
