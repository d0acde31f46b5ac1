/**
 * What Stripe's events do to a supporter: the PaymentHandler of purpose 'supporter'
 * and the event types it applies itself (customer.subscription.*, invoice.paid,
 * invoice.payment_failed). Records are found ONLY through ids we gave Stripe (the
 * stored subscription id, the metadata we put on the subscription, validated against
 * our checkout row); events about subscriptions we did not create are ignored.
 *
 * Ordering: a subscription's state is applied by the event's `created` time and the
 * row keeps that time (state_at), so a late, older event never overwrites a newer
 * state. Two events of the same second cannot be ordered: for those the subscription
 * is fetched from Stripe in `prepare` (before the transaction) and its current state applied.
 *
 * Money: each paid invoice is booked once (ledger stripe_key 'invoice:in_..') to the
 * campaign current when it was paid, as a 'supporter_payment' when
 * SUPPORTER_PAYMENTS_COUNT_TOWARD_FUND is on; its PaymentIntent is recorded with the
 * checkout (payments' checkout_payments), so refunds and disputes find it like any gift's.
 * A refund or dispute can arrive before the invoice's invoice.paid: payments then finds
 * the invoice through Stripe (before the transaction) and hands it over with the payment,
 * and the invoice's payment is booked first by the same function (bookInvoicePayment),
 * so the late invoice.paid finds it booked.
 */
import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import type { DB, Supporter, SupporterStatus } from '../db/schema.js';
import { bookStripeMoneyBack, bookStripeMoneyIn, type StripeMoneyBack } from '../fighting-fund/stripe-bookings.js';
import { formatMoney } from '../lib/money.js';
import { findCheckoutFromMetadata, findCheckoutOfRecord, invoiceOfPaymentIntent, recordFurtherPayment } from '../payments/checkout.service.js';
import { applied, ignored, type ApplyContext, type EventAppliers, type EventOutcome, type PrepareContext, type StripeEventOf } from '../payments/event-appliers.js';
import { subscriptionOfInvoice } from '../payments/payment-event-appliers.js';
import { idOf } from '../payments/stripe-ids.js';
import type { DisputeNotice, PaidPayment, PaymentHandler, PaymentHandlerContext, RefundNotice } from '../payments/payment-handlers.js';
import { queueSupporterEmail } from './supporter-emails.js';
import {
  findSupporter,
  findSupporterBySubscription,
  linkSubscription,
  liveSupportersOfPerson,
  changeShown,
  markCheckoutAbandoned,
  writeMirroredState,
  type MirroredState,
} from './supporters.repository.js';

type EventDeps = Pick<AppDeps, 'config' | 'clock' | 'logger' | 'db' | 'stripe'>;

/** Stripe look-ups in `prepare`: outside any transaction, short, retried by the event's own retry when they fail. */
const LOOKUP = { timeout: 5000, maxNetworkRetries: 1 } as const;


const PENDING_STALE_MS = 10 * 60 * 1000;

const STATUSES: SupporterStatus[] = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled'];

/**
 * The event types supporters apply themselves, in the registry every component shares
 * (payments/event-appliers.ts): what Stripe must be asked is asked in `prepare`.
 */
export function registerSupporterAppliers(registry: EventAppliers): EventAppliers {
  const subscription = {
    prepare: (ctx: PrepareContext, event: SubscriptionEvent) => prepareSubscription(ctx.deps, event),
    apply: (ctx: ApplyContext, event: SubscriptionEvent, prepared: { fresh?: Stripe.Subscription }) => applySubscriptionEvent(ctx.deps, ctx.trx, event, prepared.fresh),
  };
  return registry
    .on('customer.subscription.created', subscription)
    .on('customer.subscription.updated', subscription)
    .on('customer.subscription.deleted', subscription)
    .on('customer.subscription.paused', subscription)
    .on('customer.subscription.resumed', subscription)
    .on('invoice.paid', { prepare: (ctx, event) => prepareInvoice(ctx.deps, event), apply: (ctx, event, prepared) => applyInvoicePaid(ctx.deps, ctx.trx, event, prepared) })
    .on('invoice.payment_failed', (ctx, event) => applyInvoiceFailed(ctx.deps, ctx.trx, event));
}

type SubscriptionEvent = StripeEventOf<
  'customer.subscription.created' | 'customer.subscription.updated' | 'customer.subscription.deleted' | 'customer.subscription.paused' | 'customer.subscription.resumed'
>;

/** What Stripe's confirmed payments and failures of a supporter's checkout do (the PaymentHandler of purpose 'supporter'). */
export function supporterPaymentHandler(deps: EventDeps): PaymentHandler {
  return {
    /** checkout.session.completed in subscription mode: links our row to its subscription. Money is booked by invoice.paid. */
    async onPaid(ctx, { session }) {
      // Only a Checkout Session names the subscription it started.
      const subscriptionId = session ? idOf(session.subscription) : null;
      if (!subscriptionId) return;
      const supporter = await findSupporter(ctx.trx, ctx.checkout.record_id, { forUpdate: true });
      if (!supporter) throw new Error(`checkout ${ctx.checkout.id} names supporter ${ctx.checkout.record_id}, which does not exist`);
      const linked = await linkSubscription(ctx.trx, supporter.id, { subscriptionId, customerId: idOf(session?.customer ?? null), now: deps.clock.now() });
      if (linked && linked.state_at === null && linked.status === 'incomplete') {
        // No subscription event yet: the paid checkout means it is live; the first subscription event sets the details.
        const live = await ctx.trx.updateTable('supporters').set({ status: 'active', started_at: new Date(ctx.event.created * 1000) }).where('id', '=', supporter.id).returningAll().executeTakeFirstOrThrow();
        await onStarted(deps, ctx.trx, live);
      }
    },

    async onFailed(ctx, reason) {
      if (reason === 'expired') await markCheckoutAbandoned(ctx.trx, ctx.checkout.record_id, deps.clock.now());
    },

    async onRefunded(ctx, refund) {
      await bookBack(deps, ctx, {
        stripeKey: `refund:${refund.refundId}`,
        sourceRef: refund.refundId,
        kind: 'refund',
        originalStripeKey: '',
        amount: refund.amount,
        currency: refund.currency,
        givenAt: refund.refundedAt,
      }, refund);
    },

    async onDisputeOpened(ctx, dispute) {
      await bookBack(deps, ctx, disputeOut(dispute), dispute);
    },

    async onDisputeClosed(ctx, dispute) {
      await bookBack(deps, ctx, disputeOut(dispute), dispute);
      if (dispute.status === 'won') {
        await bookBack(deps, ctx, { ...disputeOut(dispute), stripeKey: `dispute_won:${dispute.disputeId}`, kind: 'dispute_won' }, dispute);
      }
    },

  };
}

const disputeOut = (dispute: DisputeNotice): StripeMoneyBack => ({
  stripeKey: `dispute:${dispute.disputeId}`,
  sourceRef: dispute.disputeId,
  kind: 'dispute',
  originalStripeKey: '',
  amount: dispute.amount,
  currency: dispute.currency,
  givenAt: dispute.at,
});

/**
 * Money going back from a subscription payment: against the invoice's entry, when it was booked at all.
 * When the refund or dispute came before the invoice's own invoice.paid, the invoice's payment is booked
 * first, as invoice.paid books it (which then finds it booked): the end state is the same in any order.
 */
async function bookBack(deps: EventDeps, ctx: PaymentHandlerContext, input: StripeMoneyBack, notice: Pick<RefundNotice, 'paymentIntentId' | 'originalPayment'>): Promise<void> {
  const invoiceId = (await invoiceOfPaymentIntent(ctx.trx, notice.paymentIntentId)) ?? (await bookInvoiceBeforeItsEvent(deps, ctx, await notice.originalPayment()));
  // null: the payment never reached the fund (SUPPORTER_PAYMENTS_COUNT_TOWARD_FUND=false), so nothing comes back out of it.
  const booked = await bookStripeMoneyBack(deps, ctx.trx, { ...input, originalStripeKey: invoiceKey(invoiceId) });
  if (!booked) deps.logger.info({ stripeKey: input.stripeKey, invoiceId }, 'money back from a supporter payment that is not in the fund: nothing to book');
}

/** Books the invoice a refunded or disputed payment paid, its invoice.paid not applied yet; its id. */
async function bookInvoiceBeforeItsEvent(deps: EventDeps, ctx: PaymentHandlerContext, payment: PaidPayment): Promise<string> {
  const invoice = payment.invoice;
  // Thrown, not ignored: the event is retried (its prepare step asks Stripe for the invoice again).
  if (!invoice) throw new Error(`supporter ${ctx.checkout.record_id}: payment ${payment.paymentIntentId} is not one of its invoices`);
  const { subscriptionId } = subscriptionOfInvoice(invoice);
  // Read, not locked: the checkout row (locked by the dispatcher) keeps this payment's events one at a time, and
  // invoice.paid holds the supporter's lock while it records the payment against the checkout (waiting for ours):
  // taking the supporter's lock here, after the checkout's, could deadlock with it.
  const supporter = await findSupporter(ctx.trx, ctx.checkout.record_id);
  if (!supporter || !subscriptionId || (supporter.stripe_subscription_id !== null && supporter.stripe_subscription_id !== subscriptionId)) {
    throw new Error(`checkout ${ctx.checkout.id}: invoice ${invoice.id} is not of supporter ${ctx.checkout.record_id}'s subscription`);
  }
  await bookInvoicePayment(deps, ctx.trx, { supporter, checkoutId: ctx.checkout.id, invoice, paymentIntentId: payment.paymentIntentId, chargeId: payment.chargeId ?? null, paidAtUnknown: payment.paidAt });
  deps.logger.info({ supporterId: supporter.id, invoiceId: invoice.id }, 'a refund or dispute came before its invoice.paid: the invoice payment is booked first');
  return invoice.id;
}

/** The ledger's Stripe key of an invoice's payment (one entry per invoice). */
export const invoiceKey = (invoiceId: string) => `invoice:${invoiceId}`;

// ---- subscriptions ----------------------------------------------------------------

async function prepareSubscription(deps: EventDeps, event: SubscriptionEvent): Promise<{ fresh?: Stripe.Subscription }> {
  const subscription = event.data.object;
  const stored = await findSupporterBySubscription(deps.db, subscription.id);
  // Same second as the state we hold: the two cannot be ordered, so ask Stripe for the truth now.
  if (stored?.state_at && Math.floor(stored.state_at.getTime() / 1000) === event.created) {
    return { fresh: await deps.stripe.subscriptions.retrieve(subscription.id, {}, LOOKUP) };
  }
  return {};
}

async function applySubscriptionEvent(deps: EventDeps, trx: Transaction<DB>, event: SubscriptionEvent, fresh: Stripe.Subscription | undefined): Promise<EventOutcome> {
  const subscription = fresh ?? event.data.object;
  const supporter = await supporterForSubscription(deps, trx, subscription.id, subscription.metadata, idOf(subscription.customer));
  if (!supporter) return ignored(`subscription ${subscription.id} was not created by this service`);
  const eventAt = new Date(event.created * 1000);
  if (supporter.state_at && eventAt.getTime() < supporter.state_at.getTime()) {
    return ignored(`subscription ${subscription.id}: an older state (${event.type}) than the one applied`);
  }
  if (supporter.state_at && eventAt.getTime() === supporter.state_at.getTime() && !fresh) {
    // Prepared before another event of the same second was applied: apply again, fetching this time.
    throw new Error(`subscription ${subscription.id}: two events of the same second; retrying with a look-up`);
  }
  const state = mirroredState(subscription, eventAt, supporter);
  const pending = supporter.pending_change;
  // Cleared once Stripe's state shows the change, or by any state well after it was asked (someone changed it again elsewhere).
  const clearPending =
    pending !== null && (changeShown({ amount: state.amount, interval: state.interval, paused: state.paused, cancel_at_period_end: state.cancelAtPeriodEnd }, pending) || event.created * 1000 > new Date(pending.requestedAt).getTime() + PENDING_STALE_MS);
  const after = await writeMirroredState(trx, supporter.id, state, deps.clock.now(), clearPending);

  if (after.status === 'active' && supporter.started_at === null) await onStarted(deps, trx, after);
  else if (supporter.started_at !== null) {
    const changes = describeChanges(supporter, after);
    if (changes.length > 0 && after.status !== 'canceled') await queueSupporterEmail(deps, trx, after, { kind: 'changed', eventId: event.id, changes });
  }
  if (after.status === 'canceled' && supporter.status !== 'canceled' && (supporter.started_at !== null || supporter.status !== 'incomplete')) {
    const reason = subscription.cancellation_details?.reason === 'payment_failed' || supporter.status === 'past_due' || supporter.status === 'unpaid' ? 'payment_failed' : 'cancelled';
    await queueSupporterEmail(deps, trx, after, { kind: 'ended', reason });
  }
  return applied(`supporter ${supporter.id} ${after.status}`);
}

/** A subscription goes live for the first time: the welcome, and a word if the address now has two. */
async function onStarted(deps: EventDeps, trx: Transaction<DB>, supporter: Supporter): Promise<void> {
  await queueSupporterEmail(deps, trx, supporter, { kind: 'welcome' });
  const others = (await liveSupportersOfPerson(trx, supporter.person_id)).filter((s) => s.id !== supporter.id);
  if (others[0]) await queueSupporterEmail(deps, trx, supporter, { kind: 'two-subscriptions', other: others[0] });
  deps.logger.info({ supporterId: supporter.id }, 'supporter started');
}

function mirroredState(subscription: Stripe.Subscription, stateAt: Date, before: Supporter): MirroredState {
  const item = subscription.items.data[0];
  const price = item?.price;
  const status = (STATUSES as string[]).includes(subscription.status) ? (subscription.status as SupporterStatus) : before.status;
  const interval = price?.recurring?.interval === 'year' ? 'year' : price?.recurring?.interval === 'month' ? 'month' : before.interval;
  return {
    status,
    amount: price?.unit_amount && price.unit_amount > 0 ? price.unit_amount * (item?.quantity ?? 1) : before.amount,
    interval,
    currentPeriodEnd: item?.current_period_end ? new Date(item.current_period_end * 1000) : before.current_period_end,
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    paused: subscription.pause_collection != null || subscription.status === 'paused',
    itemId: item?.id ?? before.stripe_item_id,
    productId: idOf(price?.product) ?? before.stripe_product_id,
    customerId: idOf(subscription.customer),
    stateAt,
  };
}

function describeChanges(before: Supporter, after: Supporter): string[] {
  const changes: string[] = [];
  const currency = after.currency.trim();
  if (before.amount !== after.amount || before.interval !== after.interval) {
    changes.push(`You now give ${formatMoney(after.amount, currency)} a ${after.interval} (was ${formatMoney(before.amount, before.currency.trim())} a ${before.interval}), from the next payment.`);
  }
  if (before.paused !== after.paused) changes.push(after.paused ? 'Your payments are paused.' : 'Your payments have resumed.');
  if (before.cancel_at_period_end !== after.cancel_at_period_end) {
    changes.push(after.cancel_at_period_end ? 'Your support will end at the close of the period already paid for; nothing more will be taken.' : 'Your support will carry on: the cancellation is undone.');
  }
  return changes;
}

/**
 * Our supporter row for a subscription: by the stored subscription id, else by the metadata
 * we gave it (checked against our checkout row), which links it. Locked. undefined when not ours.
 */
async function supporterForSubscription(
  deps: EventDeps,
  trx: Transaction<DB>,
  subscriptionId: string,
  metadata: Stripe.Metadata | null | undefined,
  customerId: string | null,
): Promise<Supporter | undefined> {
  const stored = await findSupporterBySubscription(trx, subscriptionId, { forUpdate: true });
  if (stored) return stored;
  const checkout = await findCheckoutFromMetadata(trx, metadata, 'supporter');
  if (!checkout) return undefined;
  const supporter = await findSupporter(trx, checkout.record_id, { forUpdate: true });
  if (!supporter || (supporter.stripe_subscription_id && supporter.stripe_subscription_id !== subscriptionId)) return undefined;
  return linkSubscription(trx, supporter.id, { subscriptionId, customerId, now: deps.clock.now() });
}

// ---- invoices -----------------------------------------------------------------------

interface InvoicePrepared {
  paymentIntentId: string | null;
  chargeId: string | null;
}

/** The invoice's PaymentIntent (not in the event in the pinned API version): asked of Stripe, before the transaction. */
async function prepareInvoice(deps: EventDeps, event: StripeEventOf<'invoice.paid'>): Promise<InvoicePrepared> {
  const invoice = event.data.object;
  const listed = invoice.payments?.data;
  const fromList = (payments: Stripe.InvoicePayment[]) => {
    const p = payments.find((x) => x.status === 'paid') ?? payments[0];
    return { paymentIntentId: idOf(p?.payment.payment_intent), chargeId: idOf(p?.payment.charge) };
  };
  if (listed && listed.length > 0) return fromList(listed);
  const { subscriptionId, metadata } = subscriptionOfInvoice(invoice);
  // Only for invoices that can be ours: a shop's invoices sharing the account are not looked up.
  const ours = metadata?.purpose === 'supporter' || (subscriptionId ? Boolean(await findSupporterBySubscription(deps.db, subscriptionId)) : false);
  if (!ours || invoice.amount_paid <= 0) return { paymentIntentId: null, chargeId: null };
  const payments = await deps.stripe.invoicePayments.list({ invoice: invoice.id, limit: 10 }, LOOKUP);
  return fromList(payments.data);
}

async function supporterForInvoice(deps: EventDeps, trx: Transaction<DB>, invoice: Stripe.Invoice): Promise<Supporter | undefined> {
  const { subscriptionId, metadata } = subscriptionOfInvoice(invoice);
  if (!subscriptionId) return undefined;
  return supporterForSubscription(deps, trx, subscriptionId, metadata, idOf(invoice.customer));
}

async function applyInvoicePaid(deps: EventDeps, trx: Transaction<DB>, event: StripeEventOf<'invoice.paid'>, prepared: InvoicePrepared): Promise<EventOutcome> {
  const invoice = event.data.object;
  const supporter = await supporterForInvoice(deps, trx, invoice);
  if (!supporter) return ignored(`invoice ${invoice.id} is not for a subscription of this service`);
  if (invoice.amount_paid <= 0) return applied(`invoice ${invoice.id}: nothing paid`);
  const paymentIntentId = prepared.paymentIntentId;
  if (!paymentIntentId) throw new Error(`invoice ${invoice.id}: Stripe did not say which payment paid it`);
  const checkout = await findCheckoutOfRecord(trx, 'supporter', supporter.id);
  if (!checkout) throw new Error(`supporter ${supporter.id} has no checkout`);
  await bookInvoicePayment(deps, trx, { supporter, checkoutId: checkout.id, invoice, paymentIntentId, chargeId: prepared.chargeId, paidAtUnknown: new Date(event.created * 1000) });
  return applied(`supporter ${supporter.id} paid invoice ${invoice.id}`);
}

/**
 * The one booking of a supporter's paid invoice, however it is reached (its invoice.paid, or a
 * refund or dispute that came first): the PaymentIntent kept with the checkout (so refunds and
 * disputes find it), the money booked once per invoice (`invoice:in_..`) to the campaign current
 * when it was paid, when SUPPORTER_PAYMENTS_COUNT_TOWARD_FUND, and the receipt queued (once).
 * Repeating it books and sends nothing more.
 */
async function bookInvoicePayment(
  deps: EventDeps,
  trx: Transaction<DB>,
  p: { supporter: Supporter; checkoutId: string; invoice: Stripe.Invoice; paymentIntentId: string; chargeId: string | null; paidAtUnknown: Date },
): Promise<void> {
  const { supporter, invoice } = p;
  const amount = invoice.amount_paid;
  if (amount <= 0) throw new Error(`invoice ${invoice.id}: nothing paid, nothing to book`);
  // When Stripe marked the invoice paid: the same instant (and so the same campaign) whichever event books it.
  const paidAt = invoice.status_transitions.paid_at ? new Date(invoice.status_transitions.paid_at * 1000) : p.paidAtUnknown;
  const currency = invoice.currency.toUpperCase();
  await recordFurtherPayment(trx, { paymentIntentId: p.paymentIntentId, checkoutId: p.checkoutId, invoiceId: invoice.id, chargeId: p.chargeId, amount, currency, paidAt });
  let campaign: string | null = null;
  if (deps.config.fund.supporterPaymentsCount) {
    const booked = await bookStripeMoneyIn(deps, trx, {
      stripeKey: invoiceKey(invoice.id),
      sourceRef: invoice.id,
      kind: 'supporter_payment',
      amount,
      currency,
      givenAt: paidAt,
      acknowledged: supporter.acknowledge,
      donorName: supporter.acknowledge ? supporter.name : null,
    });
    if (booked.created) campaign = booked.campaign.title;
  }
  await queueSupporterEmail(deps, trx, supporter, { kind: 'receipt', invoiceId: invoice.id, amount, currency, paidAt, campaign });
}

async function applyInvoiceFailed(deps: EventDeps, trx: Transaction<DB>, event: StripeEventOf<'invoice.payment_failed'>): Promise<EventOutcome> {
  const invoice = event.data.object;
  const supporter = await supporterForInvoice(deps, trx, invoice);
  if (!supporter) return ignored(`invoice ${invoice.id} is not for a subscription of this service`);
  await queueSupporterEmail(deps, trx, supporter, {
    kind: 'payment-failed',
    invoiceId: invoice.id,
    attempt: Math.max(invoice.attempt_count, 1),
    // The invoice's own page takes a new card and pays; without one, the account page leads to the Customer Portal.
    fixUrl: invoice.hosted_invoice_url ?? `${deps.config.publicUrl}/account#supporter`,
    nextAttempt: invoice.next_payment_attempt ? new Date(invoice.next_payment_attempt * 1000) : null,
  });
  return applied(`supporter ${supporter.id}: payment of invoice ${invoice.id} failed (attempt ${invoice.attempt_count})`);
}
