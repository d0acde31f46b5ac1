/**
 * Every email about a subscription (welcome, receipts, failed payments, changes,
 * the end, a second subscription), queued through the outbox inside the webhook's
 * transaction, each once (dedupe keys), each with its own signed one-click link
 * to manage or cancel the subscription without signing in.
 */
import type { AppDeps } from '../deps.js';
import type { Executor } from '../db/database.js';
import type { Supporter } from '../db/schema.js';
import { queueEmail } from '../email/outbox.service.js';
import { longDateAt } from '../lib/long-dates.js';
import { formatMoney } from '../lib/money.js';
import { manageLinkFor } from './supporter-links.js';

type EmailDeps = Pick<AppDeps, 'config' | 'clock'>;

export type SupporterEmail =
  | { kind: 'welcome' }
  | { kind: 'receipt'; invoiceId: string; amount: number; currency: string; paidAt: Date; campaign: string | null }
  | { kind: 'payment-failed'; invoiceId: string; attempt: number; fixUrl: string; nextAttempt: Date | null }
  | { kind: 'changed'; eventId: string; changes: string[] }
  | { kind: 'ended'; reason: 'payment_failed' | 'cancelled' }
  | { kind: 'two-subscriptions'; other: Supporter };

const longDate = (deps: EmailDeps, at: Date | null) => (at ? longDateAt(at, deps.config.society.timeZone) : null);

/** Queues one email about `supporter` (at most once per dedupe key). */
export async function queueSupporterEmail(deps: EmailDeps, trx: Executor, supporter: Supporter, email: SupporterEmail): Promise<void> {
  const currency = supporter.currency.trim();
  const vars: Record<string, unknown> = {
    name: supporter.name,
    amount: formatMoney(supporter.amount, currency),
    interval: supporter.interval,
    nextPayment: longDate(deps, supporter.current_period_end),
    cancelAtPeriodEnd: supporter.cancel_at_period_end,
    paused: supporter.paused,
    manageUrl: await manageLinkFor(deps, supporter.id),
    supportUrl: `${deps.config.publicUrl}/support`,
    reference: supporter.id,
  };
  let dedupeKey: string;
  switch (email.kind) {
    case 'welcome':
      dedupeKey = `supporter-welcome:${supporter.id}`;
      break;
    case 'receipt':
      dedupeKey = `supporter-receipt:${email.invoiceId}`;
      Object.assign(vars, { paid: formatMoney(email.amount, email.currency), date: longDate(deps, email.paidAt), campaign: email.campaign, invoice: email.invoiceId });
      break;
    case 'payment-failed':
      dedupeKey = `supporter-payment-failed:${email.invoiceId}:${email.attempt}`;
      Object.assign(vars, { fixUrl: email.fixUrl, nextAttempt: longDate(deps, email.nextAttempt) });
      break;
    case 'changed':
      dedupeKey = `supporter-changed:${email.eventId}`;
      vars.changes = email.changes;
      break;
    case 'ended':
      dedupeKey = `supporter-ended:${supporter.id}`;
      vars.paymentFailed = email.reason === 'payment_failed';
      break;
    case 'two-subscriptions': {
      dedupeKey = `supporter-two-subscriptions:${supporter.id}`;
      const other = email.other;
      Object.assign(vars, {
        otherAmount: formatMoney(other.amount, other.currency.trim()),
        otherInterval: other.interval,
        otherManageUrl: await manageLinkFor(deps, other.id),
      });
      break;
    }
  }
  await queueEmail(deps, trx, { to: supporter.email, template: `supporters/${email.kind}`, personId: supporter.person_id, dedupeKey, vars });
}
