/**
 * What the sandbox's Stripe holds, shaped as the pinned API version shapes it
 * (Checkout Sessions, PaymentIntents, charges, refunds, disputes, events;
 * subscriptions, invoices, invoice payments, portal sessions), the
 * Stripe-shaped error it answers with, and its Stripe-looking ids.
 */
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import { idOf } from '../stripe-ids.js';

export type SandboxSession = Pick<
  Stripe.Checkout.Session,
  | 'id'
  | 'object'
  | 'livemode'
  | 'created'
  | 'expires_at'
  | 'url'
  | 'mode'
  | 'status'
  | 'payment_status'
  | 'amount_subtotal'
  | 'amount_total'
  | 'currency'
  | 'customer'
  | 'customer_email'
  | 'customer_details'
  | 'client_reference_id'
  | 'metadata'
  | 'payment_intent'
  | 'submit_type'
  | 'success_url'
  | 'cancel_url'
  | 'payment_method_types'
  | 'subscription'
  | 'invoice'
  | 'locale'
>;

export type SandboxPaymentIntent = Pick<
  Stripe.PaymentIntent,
  'id' | 'object' | 'amount' | 'amount_received' | 'currency' | 'status' | 'metadata' | 'latest_charge' | 'created' | 'livemode' | 'payment_method_types' | 'description' | 'customer' | 'receipt_email'
>;

export type SandboxCharge = Pick<
  Stripe.Charge,
  | 'id'
  | 'object'
  | 'amount'
  | 'amount_captured'
  | 'amount_refunded'
  | 'currency'
  | 'created'
  | 'livemode'
  | 'paid'
  | 'status'
  | 'captured'
  | 'refunded'
  | 'disputed'
  | 'payment_intent'
  | 'metadata'
  | 'description'
  | 'receipt_email'
  | 'failure_code'
  | 'failure_message'
  | 'billing_details'
>;

export type SandboxRefund = Pick<
  Stripe.Refund,
  'id' | 'object' | 'amount' | 'charge' | 'payment_intent' | 'currency' | 'created' | 'status' | 'reason' | 'metadata' | 'balance_transaction' | 'receipt_number'
>;

export type SandboxDispute = Pick<
  Stripe.Dispute,
  'id' | 'object' | 'amount' | 'charge' | 'payment_intent' | 'currency' | 'created' | 'livemode' | 'status' | 'reason' | 'metadata' | 'is_charge_refundable'
>;

export type SandboxEvent = Pick<Stripe.EventBase, 'id' | 'object' | 'api_version' | 'created' | 'livemode' | 'pending_webhooks' | 'request'> & {
  type: string;
  data: { object: object; previous_attributes?: object };
};

export interface SandboxLineItem {
  name: string;
  quantity: number;
  unitAmount: number;
}

export type PaymentMethodChoice = 'card' | 'bacs' | 'bacs_failure';

// ---- Billing: subscriptions, their invoices and payments, portal sessions (used by sandbox-billing.ts) ----

export type Interval = 'month' | 'year';

export interface SandboxSubscription {
  id: string;
  object: 'subscription';
  livemode: false;
  created: number;
  start_date: number;
  status: Stripe.Subscription.Status;
  customer: string;
  currency: string;
  metadata: Record<string, string>;
  cancel_at_period_end: boolean;
  cancel_at: number | null;
  canceled_at: number | null;
  ended_at: number | null;
  trial_end: number | null;
  pause_collection: { behavior: 'void' | 'keep_as_draft' | 'mark_uncollectible'; resumes_at: number | null } | null;
  cancellation_details: { reason: Stripe.Subscription.CancellationDetails.Reason | null; comment: null; feedback: null };
  latest_invoice: string | null;
  items: {
    object: 'list';
    has_more: false;
    url: string;
    data: {
      id: string;
      object: 'subscription_item';
      created: number;
      quantity: number;
      subscription: string;
      current_period_start: number;
      current_period_end: number;
      metadata: Record<string, string>;
      price: { id: string; object: 'price'; active: true; currency: string; unit_amount: number; product: string; type: 'recurring'; recurring: { interval: Interval; interval_count: 1; usage_type: 'licensed' } };
    }[];
  };
}

export interface SandboxInvoice {
  id: string;
  object: 'invoice';
  livemode: false;
  created: number;
  customer: string;
  customer_email: string | null;
  currency: string;
  status: 'open' | 'paid' | 'void';
  billing_reason: 'subscription_create' | 'subscription_cycle';
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  attempt_count: number;
  attempted: boolean;
  next_payment_attempt: number | null;
  hosted_invoice_url: string;
  period_start: number;
  period_end: number;
  parent: { type: 'subscription_details'; quote_details: null; subscription_details: { subscription: string; metadata: Record<string, string> } };
  status_transitions: { finalized_at: number | null; paid_at: number | null; voided_at: number | null; marked_uncollectible_at: null };
}

export interface SandboxInvoicePayment {
  id: string;
  object: 'invoice_payment';
  livemode: false;
  created: number;
  invoice: string;
  amount_paid: number;
  amount_requested: number;
  currency: string;
  is_default: true;
  status: 'paid';
  // Stripe names the charge only for a payment made without a PaymentIntent: an invoice's card payment names its PaymentIntent alone.
  payment: { type: 'payment_intent'; payment_intent: string };
  status_transitions: { paid_at: number; canceled_at: null };
}

export interface SandboxPortalSession {
  id: string;
  object: 'billing_portal.session';
  livemode: false;
  created: number;
  customer: string;
  return_url: string | null;
  url: string;
}

/** A Stripe-shaped API error: `{ error: { type, message, code, param } }` with a 4xx (or 5xx) status. */
export class SandboxApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: 'invalid_request_error' | 'api_error' | 'idempotency_error' | 'card_error',
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
  toJSON() {
    return { error: { type: this.type, message: this.message, ...(this.code ? { code: this.code } : {}), ...(this.param ? { param: this.param } : {}) } };
  }
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** `pi_3PqR...`: Stripe-looking ids (the prefix tells the object's type). */
export function newId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET.charAt(b % ALPHABET.length);
  return `${prefix}_${out}`;
}

/** The id of an expandable Stripe field, which the sandbox always fills (it stores ids, never expanded objects). */
export function heldId(field: string | { id: string } | null): string {
  const id = idOf(field);
  if (id === null) throw new Error('the sandbox expected an id here');
  return id;
}

export function missing(param: string) {
  return new SandboxApiError(400, 'invalid_request_error', `Missing required param: ${param}.`, 'parameter_missing', param);
}
export function invalid(param: string, message: string, code = 'parameter_invalid') {
  return new SandboxApiError(400, 'invalid_request_error', message, code, param);
}
/** The object with this id, or Stripe's 404 for its kind (`No such charge: 'ch_..'`). */
export function held<T>(objects: ReadonlyMap<string, T>, kind: string, id: string): T {
  const object = objects.get(id);
  if (object === undefined) throw noSuch(kind, id);
  return object;
}
export function noSuch(kind: string, id: string) {
  return new SandboxApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', 'id');
}
