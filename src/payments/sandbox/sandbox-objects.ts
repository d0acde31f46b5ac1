/**
 * What the sandbox's Stripe holds, shaped as the pinned API version shapes it
 * (Checkout Sessions, PaymentIntents, charges, refunds, disputes, events), the
 * Stripe-shaped error it answers with, and its Stripe-looking ids.
 */
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';

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

export function missing(param: string) {
  return new SandboxApiError(400, 'invalid_request_error', `Missing required param: ${param}.`, 'parameter_missing', param);
}
export function invalid(param: string, message: string, code = 'parameter_invalid') {
  return new SandboxApiError(400, 'invalid_request_error', message, code, param);
}
export function noSuch(kind: string, id: string) {
  return new SandboxApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', 'id');
}
