/**
 * The sandbox's Stripe Billing: customers, subscriptions (one price, month or year),
 * their invoices and invoice payments, and Customer Portal sessions, shaped as the
 * pinned API version shapes them, with the events Stripe would send. The dashboard's
 * buttons (renew now, fail the next payment, recover, cancel from Stripe's side) and
 * the tests drive a subscription through its life with these methods.
 */
import type Stripe from 'stripe';
import { asObject, int, optionalStr, str, type FormObject, type FormValue } from './form-params.js';
import { listObjects, type ListQuery } from './list-objects.js';
import {
  invalid,
  newId,
  held,
  noSuch,
  SandboxApiError,
  type Interval,
  type SandboxEvent,
  type SandboxInvoice,
  type SandboxInvoicePayment,
  type SandboxLineItem,
  type SandboxPortalSession,
  type SandboxSession,
  type SandboxSubscription,
} from './sandbox-objects.js';
import type { SandboxState } from './sandbox-state.js';

type Result = { events: SandboxEvent[] };

export class SandboxBilling {
  readonly customers = new Map<string, { id: string; object: 'customer'; email: string | null; created: number }>();
  readonly subscriptions = new Map<string, SandboxSubscription>();
  readonly invoices = new Map<string, SandboxInvoice>();
  readonly invoicePayments = new Map<string, SandboxInvoicePayment>();
  readonly portalSessions = new Map<string, SandboxPortalSession>();
  /** Subscriptions whose next renewal fails (the dashboard's "fail next payment"). */
  readonly failNext = new Set<string>();
  private readonly plans = new Map<string, { interval: Interval; metadata: Record<string, string> }>();
  private readonly sessionOfSubscription = new Map<string, string>();

  constructor(private readonly state: SandboxState) {}

  private now(): number {
    return this.state.nowSeconds();
  }

  /** Remembers a subscription-mode session's interval and subscription_data.metadata. */
  plan(sessionId: string, plan: { interval: Interval; metadata: Record<string, string> }): void {
    this.plans.set(sessionId, plan);
  }

  /** The interval a subscription-mode session bills at (for its checkout page). */
  intervalOf(sessionId: string): Interval | undefined {
    return this.plans.get(sessionId)?.interval;
  }

  /** The payer completes a subscription-mode Checkout: customer, subscription, first invoice paid. */
  subscribe(session: SandboxSession, lineItems: SandboxLineItem[]): { session: SandboxSession; events: SandboxEvent[] } {
    const plan = this.plans.get(session.id);
    const item = lineItems[0];
    if (!plan || !item) throw new SandboxApiError(400, 'invalid_request_error', 'This session has no subscription plan.');
    const created = this.now();
    const customer = { id: newId('cus', 14), object: 'customer' as const, email: session.customer_email, created };
    this.customers.set(customer.id, customer);
    const subscriptionId = newId('sub', 24);
    const product = newId('prod', 14);
    const subscription: SandboxSubscription = {
      id: subscriptionId,
      object: 'subscription',
      livemode: false,
      created,
      start_date: created,
      status: 'active',
      customer: customer.id,
      currency: session.currency!,
      metadata: plan.metadata,
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
      ended_at: null,
      trial_end: null,
      pause_collection: null,
      cancellation_details: { reason: null, comment: null, feedback: null },
      latest_invoice: null,
      items: {
        object: 'list',
        has_more: false,
        url: `/v1/subscription_items?subscription=${subscriptionId}`,
        data: [
          {
            id: newId('si', 14),
            object: 'subscription_item',
            created,
            quantity: item.quantity,
            subscription: subscriptionId,
            current_period_start: created,
            current_period_end: addInterval(created, plan.interval),
            metadata: {},
            price: { id: newId('price', 24), object: 'price', active: true, currency: session.currency!, unit_amount: item.unitAmount, product, type: 'recurring', recurring: { interval: plan.interval, interval_count: 1, usage_type: 'licensed' } },
          },
        ],
      },
    };
    this.subscriptions.set(subscription.id, subscription);
    this.sessionOfSubscription.set(subscription.id, session.id);
    const invoice = this.newInvoice(subscription, 'subscription_create', created, subscription.items.data[0]!.current_period_end);
    const payment = this.payInvoice(invoice, subscription);
    this.state.setSessionCharge(session.id, payment.charge);
    session.status = 'complete';
    session.payment_status = 'paid';
    session.customer = customer.id;
    session.subscription = subscription.id;
    session.invoice = invoice.id;
    session.customer_details = { address: null, business_name: null, email: session.customer_email, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: [] };
    return {
      session,
      events: [
        this.state.event('customer.subscription.created', subscription),
        this.state.event('invoice.paid', invoice),
        this.state.event('checkout.session.completed', session),
      ],
    };
  }

  getSubscription(id: string): SandboxSubscription {
    return held(this.subscriptions, 'subscription', id);
  }

  /** The subscription a Checkout Session started. */
  subscriptionOfSession(sessionId: string): SandboxSubscription {
    const id = this.state.getSession(sessionId).subscription;
    if (!id) throw new SandboxApiError(400, 'invalid_request_error', `Checkout Session ${sessionId} has not started a subscription.`);
    return this.getSubscription(typeof id === 'string' ? id : id.id);
  }

  /** The period ends: the next invoice is paid (or fails), or a subscription set to cancel ends. */
  renew(id: string): Result {
    const subscription = this.live(id);
    const item = subscription.items.data[0]!;
    const now = this.now();
    if (subscription.cancel_at_period_end) return this.end(subscription, 'cancellation_requested');
    const start = Math.max(item.current_period_end, now);
    item.current_period_start = start;
    item.current_period_end = addInterval(start, item.price.recurring.interval);
    if (subscription.trial_end !== null) {
      subscription.trial_end = null;
      subscription.status = 'active';
    }
    if (subscription.pause_collection) {
      // Paused with behavior 'void': the period's invoice is voided, nothing is taken.
      const voided = this.newInvoice(subscription, 'subscription_cycle', item.current_period_start, item.current_period_end);
      voided.status = 'void';
      voided.status_transitions.voided_at = now;
      return { events: [this.state.event('customer.subscription.updated', subscription)] };
    }
    const invoice = this.newInvoice(subscription, 'subscription_cycle', item.current_period_start, item.current_period_end);
    if (this.failNext.delete(id)) {
      invoice.attempt_count = 1;
      invoice.attempted = true;
      invoice.next_payment_attempt = now + 3 * 24 * 3600;
      subscription.status = 'past_due';
      return { events: [this.state.event('invoice.payment_failed', invoice), this.state.event('customer.subscription.updated', subscription)] };
    }
    this.payInvoice(invoice, subscription);
    return { events: [this.state.event('invoice.paid', invoice), this.state.event('customer.subscription.updated', subscription)] };
  }

  /** The card is fixed: the open invoice is paid and the subscription is active again. */
  recover(id: string): Result {
    const subscription = this.live(id);
    const invoice = [...this.invoices.values()].reverse().find((i) => i.parent.subscription_details.subscription === id && i.status === 'open');
    if (!invoice) throw new SandboxApiError(400, 'invalid_request_error', `Subscription ${id} has no unpaid invoice.`);
    invoice.attempt_count += 1;
    this.payInvoice(invoice, subscription);
    subscription.status = 'active';
    return { events: [this.state.event('invoice.paid', invoice), this.state.event('customer.subscription.updated', subscription)] };
  }

  /** Ends the subscription now, from Stripe's side: after failed payments Stripe gives up with reason payment_failed. */
  cancelNow(id: string, reason?: Stripe.Subscription.CancellationDetails.Reason): Result {
    const subscription = this.live(id);
    return this.end(subscription, reason ?? (subscription.status === 'past_due' || subscription.status === 'unpaid' ? 'payment_failed' : 'cancellation_requested'));
  }

  private end(subscription: SandboxSubscription, reason: Stripe.Subscription.CancellationDetails.Reason): Result {
    const now = this.now();
    subscription.status = 'canceled';
    subscription.canceled_at ??= now;
    subscription.ended_at = now;
    subscription.cancellation_details = { reason, comment: null, feedback: null };
    for (const invoice of this.invoices.values()) {
      if (invoice.parent.subscription_details.subscription === subscription.id && invoice.status === 'open') {
        invoice.status = 'void';
        invoice.status_transitions.voided_at = now;
        invoice.next_payment_attempt = null;
      }
    }
    return { events: [this.state.event('customer.subscription.deleted', subscription)] };
  }

  /** POST /v1/subscriptions/:id: price, pause_collection, cancel_at_period_end, trial_end, metadata. */
  update(id: string, params: FormObject): { subscription: SandboxSubscription } & Result {
    const subscription = this.live(id);
    const item = subscription.items.data[0]!;
    if (params.items !== undefined) {
      const items = params.items;
      if (!Array.isArray(items) || items.length !== 1) throw invalid('items', 'The sandbox changes exactly one item.');
      const change = asObject(items[0], 'items[0]');
      if (change.id !== item.id) throw invalid('items[0][id]', `No such subscription item: '${typeof change.id === 'string' ? change.id : ''}'`, 'resource_missing');
      if (change.price_data !== undefined) {
        const priceData = asObject(change.price_data, 'items[0][price_data]');
        const product = str(priceData.product, 'items[0][price_data][product]');
        if (product !== item.price.product) throw invalid('items[0][price_data][product]', `No such product: '${product}'`, 'resource_missing');
        const recurring = asObject(priceData.recurring, 'items[0][price_data][recurring]');
        const interval = str(recurring.interval, 'items[0][price_data][recurring][interval]');
        if (interval !== 'month' && interval !== 'year') throw invalid('items[0][price_data][recurring][interval]', 'Invalid interval.');
        const currency = str(priceData.currency, 'items[0][price_data][currency]').toLowerCase();
        if (currency !== subscription.currency) throw invalid('items[0][price_data][currency]', 'The currency cannot change.');
        item.price = { ...item.price, id: newId('price', 24), unit_amount: int(priceData.unit_amount, 'items[0][price_data][unit_amount]', 1), recurring: { interval, interval_count: 1, usage_type: 'licensed' } };
      }
    }
    if (params.proration_behavior !== undefined && (typeof params.proration_behavior !== 'string' || !['none', 'create_prorations', 'always_invoice'].includes(params.proration_behavior))) {
      throw invalid('proration_behavior', 'Invalid proration_behavior.');
    }
    if (params.trial_end !== undefined) {
      const trialEnd = params.trial_end === 'now' ? this.now() : int(params.trial_end, 'trial_end');
      if (trialEnd > this.now()) {
        // The next charge waits until then (how the service defers an interval change to the next payment).
        subscription.trial_end = trialEnd;
        subscription.status = 'trialing';
        item.current_period_end = trialEnd;
      }
    }
    if (params.pause_collection !== undefined) {
      if (params.pause_collection === '') subscription.pause_collection = null;
      else {
        const pause = asObject(params.pause_collection, 'pause_collection');
        const behavior = str(pause.behavior, 'pause_collection[behavior]');
        if (!['void', 'keep_as_draft', 'mark_uncollectible'].includes(behavior)) throw invalid('pause_collection[behavior]', 'Invalid behavior.');
        subscription.pause_collection = { behavior: behavior as 'void', resumes_at: null };
      }
    }
    if (params.cancel_at_period_end !== undefined) {
      const cancel = params.cancel_at_period_end === 'true';
      subscription.cancel_at_period_end = cancel;
      subscription.cancel_at = cancel ? item.current_period_end : null;
      subscription.canceled_at = cancel ? this.now() : null;
      subscription.cancellation_details = { reason: cancel ? 'cancellation_requested' : null, comment: null, feedback: null };
    }
    return { subscription, events: [this.state.event('customer.subscription.updated', subscription)] };
  }

  /**
   * GET /v1/invoice_payments: newest first, paged, by `invoice`, by the payment
   * (`payment[type]=payment_intent&payment[payment_intent]=pi_..`: which invoice a
   * PaymentIntent paid) and by `status`, as Stripe filters them.
   */
  listInvoicePayments(query: ListQuery & { invoice?: string | undefined; payment?: FormValue | undefined; status?: string | undefined }) {
    const byPayment = invoicePaymentFilter(query.payment);
    if (query.status !== undefined && !['open', 'paid', 'canceled'].includes(query.status)) throw invalid('status', `Invalid status: must be one of open, paid, or canceled`);
    const payments = [...this.invoicePayments.values()].filter(
      (p) => (!query.invoice || p.invoice === query.invoice) && (!query.status || p.status === query.status) && (!byPayment || byPayment(p)),
    );
    return listObjects(payments, query, '/v1/invoice_payments', 'invoice_payment');
  }

  getInvoice(id: string): SandboxInvoice {
    return held(this.invoices, 'invoice', id);
  }

  /** POST /v1/billing_portal/sessions: the sandbox's Customer Portal page for this customer. */
  createPortalSession(params: FormObject): SandboxPortalSession {
    const customer = str(params.customer, 'customer');
    if (!this.customers.has(customer)) throw noSuch('customer', customer);
    const id = newId('bps', 24);
    const session: SandboxPortalSession = { id, object: 'billing_portal.session', livemode: false, created: this.now(), customer, return_url: optionalStr(params.return_url), url: `${this.state.pagesUrl}/portal/${id}` };
    this.portalSessions.set(id, session);
    return session;
  }

  subscriptionsOfCustomer(customer: string): SandboxSubscription[] {
    return [...this.subscriptions.values()].filter((s) => s.customer === customer);
  }

  private live(id: string): SandboxSubscription {
    const subscription = this.getSubscription(id);
    if (subscription.status === 'canceled') throw new SandboxApiError(400, 'invalid_request_error', `Subscription ${id} is canceled.`, 'resource_missing');
    return subscription;
  }

  private newInvoice(subscription: SandboxSubscription, reason: SandboxInvoice['billing_reason'], periodStart: number, periodEnd: number): SandboxInvoice {
    const item = subscription.items.data[0]!;
    const amount = item.price.unit_amount * item.quantity;
    const created = this.now();
    const id = newId('in', 24);
    const invoice: SandboxInvoice = {
      id,
      object: 'invoice',
      livemode: false,
      created,
      customer: subscription.customer,
      customer_email: this.customers.get(subscription.customer)?.email ?? null,
      currency: subscription.currency,
      status: 'open',
      billing_reason: reason,
      amount_due: amount,
      amount_paid: 0,
      amount_remaining: amount,
      attempt_count: 0,
      attempted: false,
      next_payment_attempt: null,
      hosted_invoice_url: `${this.state.pagesUrl}/invoices/${id}`,
      period_start: periodStart,
      period_end: periodEnd,
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { subscription: subscription.id, metadata: { ...subscription.metadata } } },
      status_transitions: { finalized_at: created, paid_at: null, voided_at: null, marked_uncollectible_at: null },
    };
    this.invoices.set(id, invoice);
    subscription.latest_invoice = id;
    return invoice;
  }

  private payInvoice(invoice: SandboxInvoice, subscription: SandboxSubscription): { paymentIntent: string; charge: string } {
    const now = this.now();
    const { intent, charge } = this.state.chargeCard({
      amount: invoice.amount_due,
      currency: invoice.currency,
      email: invoice.customer_email,
      description: `Subscription ${subscription.id}`,
      customer: subscription.customer,
    });
    invoice.status = 'paid';
    invoice.attempted = true;
    invoice.attempt_count = Math.max(invoice.attempt_count, 1);
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.next_payment_attempt = null;
    invoice.status_transitions.paid_at = now;
    const payment: SandboxInvoicePayment = {
      id: newId('inpay', 24),
      object: 'invoice_payment',
      livemode: false,
      created: now,
      invoice: invoice.id,
      amount_paid: invoice.amount_due,
      amount_requested: invoice.amount_due,
      currency: invoice.currency,
      is_default: true,
      status: 'paid',
      payment: { type: 'payment_intent', payment_intent: intent.id },
      status_transitions: { paid_at: now, canceled_at: null },
    };
    this.invoicePayments.set(payment.id, payment);
    return { paymentIntent: intent.id, charge: charge.id };
  }

  /** The invoice's charge (its PaymentIntent's), for the refund and dispute of a subscription payment. */
  chargeOfInvoice(invoiceId: string): string {
    const payment = [...this.invoicePayments.values()].find((p) => p.invoice === invoiceId);
    const charge = payment && this.state.getPaymentIntent(payment.payment.payment_intent).latest_charge;
    if (!charge) throw new SandboxApiError(400, 'invalid_request_error', `Invoice ${invoiceId} has not been paid.`);
    return typeof charge === 'string' ? charge : charge.id;
  }
}

/** `payment[type]` with the id of that type, as Stripe takes it; a payment record never matches (the sandbox has none). */
function invoicePaymentFilter(value: FormValue | undefined): ((p: SandboxInvoicePayment) => boolean) | undefined {
  if (value === undefined) return undefined;
  const payment = asObject(value, 'payment');
  const type = str(payment.type, 'payment[type]');
  if (type === 'payment_intent') {
    const intent = str(payment.payment_intent, 'payment[payment_intent]');
    return (p) => p.payment.payment_intent === intent;
  }
  if (type === 'payment_record') {
    str(payment.payment_record, 'payment[payment_record]');
    return () => false;
  }
  throw invalid('payment[type]', `Invalid payment[type]: must be one of payment_intent or payment_record`);
}

/** The same day of the next month (or year), kept within the month (31 Jan -> 28/29 Feb), as Stripe bills. */
export function addInterval(seconds: number, interval: Interval): number {
  const d = new Date(seconds * 1000);
  const months = interval === 'month' ? 1 : 12;
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return Math.floor(target.getTime() / 1000);
}
