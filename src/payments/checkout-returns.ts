/**
 * What the page Stripe Checkout returns to (/checkout/success) says about the
 * payment: each purpose's component describes its own record (what was given,
 * the campaign's new total, the member number once allotted, where the receipt
 * went), through this registry built in composition.ts. The session id in the
 * address is the payer's unguessable key; even so, the email address is shown
 * only in part.
 */
import type { CheckoutPurpose } from '../db/schema.js';

export interface CheckoutReturnDetails {
  /** Which part of templates/pages/checkout-success.liquid shows it. */
  kind: string;
  /** The form the reader came from: "start again" goes there. */
  formPath: string;
  [key: string]: unknown;
}

export type CheckoutReturnDescriber = (recordId: string) => Promise<CheckoutReturnDetails | undefined>;

export type CheckoutReturns = Partial<Record<CheckoutPurpose, CheckoutReturnDescriber>>;

/** "ada.reader@example.org" as "a…r@example.org": enough to recognise, not to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '…';
  const local = email.slice(0, at);
  const shown = local.length <= 2 ? `${local[0]}…` : `${local[0]}…${local[local.length - 1]}`;
  return `${shown}${email.slice(at)}`;
}
