/**
 * Stored Stripe events without the people in them: once an event is applied, a
 * periodic job sets its personal fields (customer_email, customer_details,
 * billing and shipping details, names, addresses...) to null; erasure does the
 * same at once for every event about the person, applied or not. What links an
 * event to our records (ids, metadata, amounts, statuses) stays.
 */
import type { AppDeps } from '../deps.js';
import type { Executor } from '../db/database.js';
import { redactAppliedEvents, redactEventsMentioning, stripeIdsOfRecords } from './payload-redaction.repository.js';

export const REDACT_STRIPE_PAYLOADS_TASK = 'redact-stripe-payloads';

const BATCH = 500;

/** The periodic job: redacts applied events in batches until none is left. */
export async function redactAppliedStripeEvents(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deps.db.transaction().execute((trx) => redactAppliedEvents(trx, deps.clock.now(), BATCH));
    total += n;
    if (n < BATCH) return total;
  }
}

/**
 * Erasure, inside its transaction: every stored event about these records of ours
 * (found by the Stripe ids of their checkouts) or naming this email loses its personal fields.
 */
export async function redactStripeEventsAbout(trx: Executor, now: Date, about: { recordIds: readonly string[]; email: string }): Promise<number> {
  const ids = await stripeIdsOfRecords(trx, about.recordIds);
  return redactEventsMentioning(trx, now, { ids, email: about.email });
}
