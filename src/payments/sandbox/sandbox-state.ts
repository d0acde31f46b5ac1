/**
 * The sandbox's Stripe: Checkout Sessions, PaymentIntents and charges (refunds and
 * disputes in sandbox-money-back.ts, Billing in sandbox-billing.ts) held in memory (they vanish when the process stops; the service's
 * own database keeps what matters), shaped as the pinned API version shapes
 * them, and the events Stripe would send about them (sent by sandbox-delivery.ts).
 */
import Stripe from 'stripe';
import type { Clock } from '../../lib/clock.js';
import { asArray, asObject, int, optionalStr, str, stringMap, type FormObject } from './form-params.js';
import { listObjects, type ListQuery } from './list-objects.js';
import { SandboxBilling } from './sandbox-billing.js';
import { SandboxMoneyBack } from './sandbox-money-back.js';
import { WebhookSender, type Delivery, type SandboxWebhook, type WebhookSenderOptions } from './sandbox-delivery.js';
import {
  heldId,
  invalid,
  missing,
  newId,
  held,
  SandboxApiError,
  type PaymentMethodChoice,
  type SandboxCharge,
  type SandboxEvent,
  type SandboxLineItem,
  type SandboxPaymentIntent,
  type SandboxSession,
} from './sandbox-objects.js';

export interface SandboxStateOptions extends WebhookSenderOptions {
  /** Checkout pages live at `${pagesUrl}/checkout/<session id>`. */
  pagesUrl: string;
  clock?: Clock | undefined;
  /** How long a Bacs Direct Debit paid on the page stays pending (default 4 s). */
  bacsDelayMs?: number | undefined;
}

const realClock: Clock = { now: () => new Date() };

export class SandboxState {
  readonly sessions = new Map<string, SandboxSession>();
  readonly lineItems = new Map<string, SandboxLineItem[]>();
  readonly paymentIntents = new Map<string, SandboxPaymentIntent>();
  readonly charges = new Map<string, SandboxCharge>();
  private readonly chargeBySession = new Map<string, string>();
  private readonly sender: WebhookSender;
  private readonly clock: Clock;

  constructor(private readonly options: SandboxStateOptions) {
    this.sender = new WebhookSender(options);
    this.clock = options.clock ?? realClock;
  }

  /** The sandbox's time in Unix seconds, as Stripe writes `created` (its clock, which tests may move). */
  nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  // ---- Checkout Sessions ------------------------------------------------------

  createSession(params: FormObject): SandboxSession {
    const mode = str(params.mode, 'mode');
    if (mode !== 'payment' && mode !== 'subscription') {
      throw new SandboxApiError(400, 'invalid_request_error', `The sandbox supports mode=payment and mode=subscription only, not ${mode}.`, 'parameter_invalid_string', 'mode');
    }
    let recurring: 'month' | 'year' | undefined;
    const items = asArray(params.line_items, 'line_items');
    if (items.length === 0) throw missing('line_items');
    let currency: string | undefined;
    const lineItems = items.map((raw, i): SandboxLineItem => {
      const item = asObject(raw, `line_items[${i}]`);
      const priceData = asObject(item.price_data, `line_items[${i}][price_data]`);
      const c = str(priceData.currency, `line_items[${i}][price_data][currency]`).toLowerCase();
      if (!/^[a-z]{3}$/.test(c)) throw invalid(`line_items[${i}][price_data][currency]`, 'Invalid currency.');
      if (currency && c !== currency) throw invalid(`line_items[${i}][price_data][currency]`, 'All line items must have the same currency.');
      currency = c;
      const productData = asObject(priceData.product_data, `line_items[${i}][price_data][product_data]`);
      if (mode === 'subscription') {
        const r = asObject(priceData.recurring, `line_items[${i}][price_data][recurring]`);
        const interval = str(r.interval, `line_items[${i}][price_data][recurring][interval]`);
        if (interval !== 'month' && interval !== 'year') throw invalid(`line_items[${i}][price_data][recurring][interval]`, 'The sandbox supports month and year intervals.');
        recurring = interval;
      }
      return {
        name: str(productData.name, `line_items[${i}][price_data][product_data][name]`),
        unitAmount: int(priceData.unit_amount, `line_items[${i}][price_data][unit_amount]`),
        quantity: int(item.quantity ?? '1', `line_items[${i}][quantity]`, 1),
      };
    });
    const amount = lineItems.reduce((sum, li) => sum + li.unitAmount * li.quantity, 0);
    if (amount < 1 || !Number.isSafeInteger(amount)) throw invalid('line_items', 'The total amount must be at least 1.', 'amount_too_small');
    const metadata = stringMap(params.metadata, 'metadata');
    const intentData = params.payment_intent_data === undefined ? {} : asObject(params.payment_intent_data, 'payment_intent_data');
    const id = newId('cs_test', 58);
    const created = this.nowSeconds();
    const customerEmail = optionalStr(params.customer_email);
    const session: SandboxSession = {
      id,
      object: 'checkout.session',
      livemode: false,
      created,
      expires_at: created + 24 * 3600,
      url: `${this.options.pagesUrl}/checkout/${id}`,
      mode,
      status: 'open',
      payment_status: 'unpaid',
      amount_subtotal: amount,
      amount_total: amount,
      currency: currency!,
      customer: null,
      customer_email: customerEmail,
      customer_details: null,
      client_reference_id: optionalStr(params.client_reference_id),
      metadata,
      payment_intent: null,
      submit_type: mode === 'payment' ? optionalStr(params.submit_type) : null,
      success_url: optionalStr(params.success_url),
      cancel_url: optionalStr(params.cancel_url),
      payment_method_types: mode === 'payment' ? ['card', 'bacs_debit'] : ['card'],
      subscription: null,
      invoice: null,
      locale: null,
    };
    this.sessions.set(id, session);
    this.lineItems.set(id, lineItems);
    this.pendingIntentMetadata.set(id, stringMap(intentData.metadata, 'payment_intent_data[metadata]'));
    if (mode === 'subscription') {
      const subscriptionData = params.subscription_data === undefined ? {} : asObject(params.subscription_data, 'subscription_data');
      this.billing.plan(id, { interval: recurring!, metadata: stringMap(subscriptionData.metadata, 'subscription_data[metadata]') });
    }
    return session;
  }

  /** Customers, subscriptions, invoices and the Customer Portal (sandbox-billing.ts). */
  readonly billing = new SandboxBilling(this);
  /** Refunds and disputes: money going back to the payer (sandbox-money-back.ts). */
  readonly moneyBack = new SandboxMoneyBack(this);

  get pagesUrl(): string {
    return this.options.pagesUrl;
  }

  /** A succeeded card payment outside Checkout (a subscription's invoice): its PaymentIntent and charge. */
  chargeCard(input: { amount: number; currency: string; email: string | null; description: string; customer: string | null }): { intent: SandboxPaymentIntent; charge: SandboxCharge } {
    const created = this.nowSeconds();
    const intent: SandboxPaymentIntent = {
      id: newId('pi', 24),
      object: 'payment_intent',
      amount: input.amount,
      amount_received: input.amount,
      currency: input.currency,
      status: 'succeeded',
      // Stripe does not copy a subscription's metadata onto its invoices' PaymentIntents.
      metadata: {},
      latest_charge: null,
      created,
      livemode: false,
      payment_method_types: ['card'],
      description: input.description,
      customer: input.customer,
      receipt_email: input.email,
    };
    const charge: SandboxCharge = {
      id: newId('ch', 24),
      object: 'charge',
      amount: input.amount,
      amount_captured: input.amount,
      amount_refunded: 0,
      currency: input.currency,
      created,
      livemode: false,
      paid: true,
      status: 'succeeded',
      captured: true,
      refunded: false,
      disputed: false,
      payment_intent: intent.id,
      metadata: {},
      description: input.description,
      receipt_email: input.email,
      failure_code: null,
      failure_message: null,
      billing_details: { address: null, email: input.email, name: null, phone: null, tax_id: null },
    };
    intent.latest_charge = charge.id;
    this.paymentIntents.set(intent.id, intent);
    this.charges.set(charge.id, charge);
    return { intent, charge };
  }

  /** Links a session to the charge that paid it (the refund and dispute buttons use it). */
  setSessionCharge(sessionId: string, chargeId: string): void {
    this.chargeBySession.set(sessionId, chargeId);
  }

  private readonly pendingIntentMetadata = new Map<string, Record<string, string>>();

  getSession(id: string): SandboxSession {
    return held(this.sessions, 'checkout.session', id);
  }

  /** Expires an open session (POST /v1/checkout/sessions/:id/expire): checkout.session.expired. */
  expireSession(id: string): { session: SandboxSession; events: SandboxEvent[] } {
    const session = this.getSession(id);
    if (session.status !== 'open') {
      throw new SandboxApiError(400, 'invalid_request_error', `Only open Checkout Sessions can be expired; this one is ${session.status}.`, 'checkout_session_not_open');
    }
    session.status = 'expired';
    return { session, events: [this.event('checkout.session.expired', session)] };
  }

  /** The payer pays on the checkout page: card (paid at once) or Bacs Direct Debit (pending). */
  pay(sessionId: string, method: PaymentMethodChoice): { session: SandboxSession; events: SandboxEvent[] } {
    const session = this.getSession(sessionId);
    if (session.status !== 'open') throw new SandboxApiError(400, 'invalid_request_error', `This Checkout Session is ${session.status}.`, 'checkout_session_not_open');
    if (session.mode === 'subscription') return this.billing.subscribe(session, this.lineItems.get(sessionId) ?? []);
    const created = this.nowSeconds();
    const amount = session.amount_total!;
    const metadata = this.pendingIntentMetadata.get(sessionId) ?? {};
    const card = method === 'card';
    const intent: SandboxPaymentIntent = {
      id: newId('pi', 24),
      object: 'payment_intent',
      amount,
      amount_received: card ? amount : 0,
      currency: session.currency!,
      status: card ? 'succeeded' : 'processing',
      metadata,
      latest_charge: null,
      created,
      livemode: false,
      payment_method_types: [card ? 'card' : 'bacs_debit'],
      description: this.lineItems.get(sessionId)?.[0]?.name ?? null,
      customer: null,
      receipt_email: session.customer_email,
    };
    const charge: SandboxCharge = {
      id: newId('ch', 24),
      object: 'charge',
      amount,
      amount_captured: card ? amount : 0,
      amount_refunded: 0,
      currency: session.currency!,
      created,
      livemode: false,
      paid: card,
      status: card ? 'succeeded' : 'pending',
      captured: card,
      refunded: false,
      disputed: false,
      payment_intent: intent.id,
      // Stripe copies the PaymentIntent's metadata onto the charges it makes.
      metadata: { ...metadata },
      description: intent.description,
      receipt_email: session.customer_email,
      failure_code: null,
      failure_message: null,
      billing_details: { address: null, email: session.customer_email, name: null, phone: null, tax_id: null },
    };
    intent.latest_charge = charge.id;
    this.paymentIntents.set(intent.id, intent);
    this.charges.set(charge.id, charge);
    this.chargeBySession.set(sessionId, charge.id);

    session.status = 'complete';
    session.payment_status = card ? 'paid' : 'unpaid';
    session.payment_intent = intent.id;
    session.customer_details = {
      address: null,
      business_name: null,
      email: session.customer_email,
      individual_name: null,
      name: null,
      phone: null,
      tax_exempt: 'none',
      tax_ids: [],
    };
    return { session, events: [this.event('checkout.session.completed', session)] };
  }

  /** A pending Bacs Direct Debit settles: async_payment_succeeded or _failed. */
  settleBacs(sessionId: string, outcome: 'succeeded' | 'failed'): { session: SandboxSession; events: SandboxEvent[] } {
    const session = this.getSession(sessionId);
    const charge = this.chargeOf(sessionId);
    const intent = this.paymentIntents.get(heldId(charge.payment_intent))!;
    if (charge.status !== 'pending') throw new SandboxApiError(400, 'invalid_request_error', `The payment of ${sessionId} is not pending.`);
    if (outcome === 'succeeded') {
      charge.status = 'succeeded';
      charge.paid = true;
      charge.captured = true;
      charge.amount_captured = charge.amount;
      intent.status = 'succeeded';
      intent.amount_received = intent.amount;
      session.payment_status = 'paid';
      return { session, events: [this.event('checkout.session.async_payment_succeeded', session)] };
    }
    charge.status = 'failed';
    charge.failure_code = 'debit_not_authorized';
    charge.failure_message = 'The customer has notified their bank that this payment was unauthorised.';
    intent.status = 'requires_payment_method';
    return { session, events: [this.event('checkout.session.async_payment_failed', session)] };
  }

  chargeOf(sessionId: string): SandboxCharge {
    const chargeId = this.chargeBySession.get(sessionId);
    if (!chargeId) throw new SandboxApiError(400, 'invalid_request_error', `Checkout Session ${sessionId} has not been paid.`);
    return this.charges.get(chargeId)!;
  }

  getCharge(id: string): SandboxCharge {
    return held(this.charges, 'charge', id);
  }

  getPaymentIntent(id: string): SandboxPaymentIntent {
    return held(this.paymentIntents, 'payment_intent', id);
  }

  /** GET /v1/charges: newest first, by creation time (reconciliation lists a period's charges). */
  listCharges(query: ListQuery & { paymentIntent?: string | undefined }) {
    const charges = [...this.charges.values()].filter((c) => !query.paymentIntent || c.payment_intent === query.paymentIntent);
    return listObjects(charges, query, '/v1/charges', 'charge');
  }

  // ---- events -------------------------------------------------------------------

  /** A Stripe event about `object` as it is now (a snapshot, as Stripe sends). */
  event(type: string, object: object): SandboxEvent {
    const event: SandboxEvent = {
      id: newId('evt', 24),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: this.nowSeconds(),
      livemode: false,
      pending_webhooks: this.webhook ? 1 : 0,
      request: { id: null, idempotency_key: null },
      type,
      data: { object: structuredClone(object) },
    };
    return event;
  }

  /** Sends the events in order to the webhook URL; resolves when each was answered (or given up on). */
  deliver(events: SandboxEvent[]): Promise<Delivery[]> {
    return this.sender.deliver(events);
  }

  /** Resolves once every delivery started so far has finished. */
  idle(): Promise<void> {
    return this.sender.idle();
  }

  /** Runs `fn` after `ms` unless the sandbox is closed first (the Bacs settlement on the page). */
  later(ms: number, fn: () => Promise<unknown>): void {
    this.sender.later(ms, fn);
  }

  get deliveries(): readonly Delivery[] {
    return this.sender.deliveries;
  }

  get webhook(): SandboxWebhook | undefined {
    return this.sender.webhook;
  }

  set webhook(webhook: SandboxWebhook | undefined) {
    this.sender.webhook = webhook;
  }

  get bacsDelayMs(): number {
    return this.options.bacsDelayMs ?? 4000;
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}
