/**
 * The emails about a donation's money: a receipt when the gift is booked and a
 * notice when it is refunded. Queued through the outbox inside the webhook's
 * transaction, each at most once per Stripe payment or refund (dedupe keys), so
 * the same money reported by two events emails once. Written by AUTH (issue 3);
 * called from donation-payments.ts.
 */
import type { Transaction } from 'kysely';
import type { AppDeps } from '../deps.js';
import type { Campaign, DB, Donation, LedgerEntry } from '../db/schema.js';
import { queueEmail } from '../email/outbox.service.js';
import { longDateAt } from '../lib/long-dates.js';
import { formatMoney } from '../lib/money.js';
import { humanReference } from '../lib/references.js';

type ReceiptDeps = Pick<AppDeps, 'config' | 'clock'>;

/** The receipt for a booked online gift: amount, date, campaign (the one it was booked to), reference. */
export async function queueDonationReceipt(
  deps: ReceiptDeps,
  trx: Transaction<DB>,
  input: { donation: Donation; entry: LedgerEntry; campaign: Pick<Campaign, 'title'>; paymentIntentId: string },
): Promise<void> {
  const { donation, entry, campaign } = input;
  await queueEmail(deps, trx, {
    to: donation.email,
    template: 'donation-receipt',
    personId: donation.person_id,
    dedupeKey: `donation-receipt:${input.paymentIntentId}`,
    vars: {
      name: donation.name,
      amount: formatMoney(entry.amount, entry.currency.trim()),
      date: longDateAt(entry.given_at, deps.config.society.timeZone),
      campaign: campaign.title,
      reference: humanReference('GIFT', donation.id),
      acknowledged: donation.acknowledge,
      town: donation.town,
    },
  });
}

/** The notice that (part of) a gift was refunded. */
export async function queueRefundNotice(
  deps: ReceiptDeps,
  trx: Transaction<DB>,
  input: { donation: Donation; refundId: string; amount: number; currency: string; refundedAt: Date },
): Promise<void> {
  const { donation } = input;
  await queueEmail(deps, trx, {
    to: donation.email,
    template: 'donation-refunded',
    personId: donation.person_id,
    dedupeKey: `donation-refunded:${input.refundId}`,
    vars: {
      name: donation.name,
      amount: formatMoney(input.amount, input.currency.toUpperCase()),
      originalAmount: formatMoney(donation.amount, donation.currency.trim()),
      originalDate: longDateAt(donation.paid_at ?? donation.created_at, deps.config.society.timeZone),
      partial: input.amount < donation.amount,
      date: longDateAt(input.refundedAt, deps.config.society.timeZone),
      reference: humanReference('GIFT', donation.id),
      refundReference: input.refundId,
    },
  });
}

/** A Direct Debit the bank did not pay: nothing was taken; a link back to the form, filled in. */
export async function queueDirectDebitFailed(deps: ReceiptDeps, trx: Transaction<DB>, input: { donation: Donation; checkoutId: string }): Promise<void> {
  const { donation } = input;
  await queueEmail(deps, trx, {
    to: donation.email,
    template: 'payment-failed',
    personId: donation.person_id,
    dedupeKey: `payment-failed:${input.checkoutId}`,
    vars: {
      name: donation.name,
      amount: formatMoney(donation.amount, donation.currency.trim()),
      what: 'your gift to the fighting fund',
      retryUrl: `${deps.config.publicUrl}/donate/resume/${donation.id}`,
      reference: humanReference('GIFT', donation.id),
    },
  });
}
