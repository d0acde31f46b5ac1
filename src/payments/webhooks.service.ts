/**
 * The Stripe webhook inbox. POST /webhooks/stripe verifies an event and records
 * it durably (stored once, keyed by its id, with a queue row) before answering
 * 2xx; the processor (stripe-inbox.ts) then applies each queued event in ONE
 * transaction with its result row, so an event is applied exactly once however
 * often, in whatever order and on however many instances Stripe delivers it. A
 * failing handler rolls back; the failure is then recorded and a retry job
 * (graphile-worker, with backoff) applies the event later.
 */
import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import type { DB } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { assertSignatureTimestampNotAhead, noteEventApiVersion } from './stripe-event-checks.js';
import { addJob } from '../lib/jobs.js';
import { dispatchEvent, type EventOutcome } from './event-appliers.js';
import type { PaymentHandlers } from './payment-handlers.js';
import type { StripeInbox } from './stripe-inbox.js';
import {
  claimQueuedEvents,
  dequeueEvent,
  findEventPayload,
  findEventResult,
  insertEventFailure,
  insertEventResults,
  lockEvent,
} from './webhooks.repository.js';

export type WebhookErrorCode = 'invalid_signature' | 'invalid_event';

export const RETRY_STRIPE_EVENT_TASK = 'process-stripe-event';

export interface WebhookReceipt {
  received: true;
  eventId: string;
  /** 'recorded': stored now, and applied next by the processor; 'duplicate': this event id had been received before. */
  outcome: 'recorded' | 'duplicate';
}

/** POST /webhooks/stripe: verifies the event and records it durably; applying it is the processor's work. */
export async function receiveStripeEvent(
  deps: AppDeps,
  inbox: Pick<StripeInbox, 'record'>,
  rawBody: Buffer,
  signature: string | undefined,
): Promise<WebhookReceipt> {
  const event = verifyEvent(deps, rawBody, signature);
  // Rejects when it could not be stored: the error answers 5xx, and Stripe delivers again.
  const outcome = await inbox.record(event, rawBody);
  deps.metrics?.stripeDeliveries.inc({ type: event.type, outcome });
  return { received: true, eventId: event.id, outcome };
}

/**
 * The processor's step: applies up to `limit` of the oldest queued events that no
 * one else holds, in one transaction with their result rows. When one of them
 * fails, all are rolled back: the failing one is recorded as failed and handed to
 * the retry job (which backs off), the others are queued again for the next step.
 * So a failure never blocks the queue. `more`: there may be more to take now.
 */
export async function applyQueuedEvents(deps: AppDeps, handlers: PaymentHandlers, limit: number): Promise<{ taken: number; more: boolean }> {
  let claimed = 0;
  let failing: Stripe.Event | undefined;
  let done: { event: Stripe.Event; result: EventOutcome & { duplicate: boolean } }[];
  try {
    done = await deps.db.transaction().execute(async (trx) => {
      const events = await claimQueuedEvents(trx, limit);
      claimed = events.length;
      const applied = [];
      for (const { event, result } of events) {
        // Applied already (by the retry job): taking the queue row away is all that is left to do.
        if (result) {
          applied.push({ event, result: { ...result, duplicate: true } });
          continue;
        }
        failing = event;
        applied.push({ event, result: { ...(await dispatchEvent({ deps, trx, handlers, event })), duplicate: false } });
      }
      failing = undefined;
      const now = deps.clock.now();
      await insertEventResults(
        trx,
        applied.filter((a) => !a.result.duplicate).map((a) => ({ eventId: a.event.id, outcome: a.result.outcome, note: a.result.note, now })),
      );
      return applied;
    });
  } catch (err) {
    // Not even claimed (the database is away): the caller backs off and the events stay queued.
    if (claimed === 0) throw err;
    if (failing) {
      await handToRetryJob(deps, failing, err);
    } else {
      // Failed outside any one event (writing the results, the commit): one per transaction, to find it.
      for (let i = 0; i < claimed; i++) if (!(await applyNextQueuedEvent(deps, handlers))) break;
    }
    return { taken: claimed, more: true };
  }
  for (const { event, result } of done) logProcessed(deps, event, result);
  // Fewer than asked for: the queue held no more that was free when we looked.
  return { taken: done.length, more: done.length === limit };
}

/** One queued event in its own transaction; false when none was waiting. */
async function applyNextQueuedEvent(deps: AppDeps, handlers: PaymentHandlers): Promise<boolean> {
  let claimed: Stripe.Event | undefined;
  try {
    const result = await deps.db.transaction().execute(async (trx) => {
      const next = (await claimQueuedEvents(trx, 1))[0];
      if (!next) return undefined;
      claimed = next.event;
      if (next.result) return { ...next.result, duplicate: true };
      return { ...(await applyInTransaction(deps, handlers, trx, next.event)), duplicate: false };
    });
    if (!result) return false;
    logProcessed(deps, claimed!, result);
    return true;
  } catch (err) {
    if (!claimed) throw err;
    await handToRetryJob(deps, claimed, err);
    return true;
  }
}

/**
 * Applies a stored event again (the retry job). Throws when it fails again, after
 * recording the failure, so the job runner retries with backoff.
 */
export async function retryStripeEvent(deps: AppDeps, handlers: PaymentHandlers, eventId: string): Promise<EventOutcome & { duplicate: boolean }> {
  const event = await findEventPayload(deps.db, eventId);
  if (!event) throw new Error(`stripe event ${eventId} is not in the inbox`);
  try {
    const result = await deps.db.transaction().execute(async (trx) => {
      // A second attempt at the same event waits here until the first commits, then finds its result.
      await lockEvent(trx, event.id);
      const done = await findEventResult(trx, event.id);
      if (done) return { outcome: done.outcome, note: done.note, duplicate: true };
      return { ...(await applyInTransaction(deps, handlers, trx, event)), duplicate: false };
    });
    if (!result.duplicate) logProcessed(deps, event, result);
    return result;
  } catch (err) {
    await recordFailure(deps, event, err, { queueRetry: false });
    throw err;
  }
}

function verifyEvent(deps: AppDeps, rawBody: Buffer, signature: string | undefined): Stripe.Event {
  if (!signature) {
    throw new AppError<WebhookErrorCode>({ code: 'invalid_signature', status: 400, message: 'The Stripe-Signature header is missing.' });
  }
  // The stripe package refuses only old timestamps; one ahead of now is refused here.
  assertSignatureTimestampNotAhead(signature);
  let event: Stripe.Event;
  try {
    // Default tolerance (300 s) against the real time: staleness is about the delivery, not the domain clock.
    event = deps.stripe.webhooks.constructEvent(rawBody, signature, deps.stripeWebhookSecret);
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new AppError<WebhookErrorCode>({ code: 'invalid_event', status: 400, message: 'The body is not a JSON Stripe event.' });
    }
    throw new AppError<WebhookErrorCode>({
      code: 'invalid_signature',
      status: 400,
      message: 'The Stripe-Signature does not match this body, or it is too old.',
    });
  }
  if (
    !event ||
    typeof event !== 'object' ||
    typeof event.id !== 'string' ||
    !/^evt_\w{1,250}$/.test(event.id) ||
    typeof event.type !== 'string' ||
    !Number.isSafeInteger(event.created) ||
    typeof event.data?.object !== 'object'
  ) {
    throw new AppError<WebhookErrorCode>({ code: 'invalid_event', status: 400, message: 'The body is not a Stripe event.' });
  }
  noteEventApiVersion(deps, event);
  return event;
}

/** The event's effects and its result row, in the caller's transaction. */
async function applyInTransaction(deps: AppDeps, handlers: PaymentHandlers, trx: Transaction<DB>, event: Stripe.Event) {
  const result = await dispatchEvent({ deps, trx, handlers, event });
  await insertEventResults(trx, [{ eventId: event.id, outcome: result.outcome, note: result.note, now: deps.clock.now() }]);
  return result;
}

/** After the commit, so the log never tells of an event that was rolled back. */
function logProcessed(deps: AppDeps, event: Stripe.Event, result: EventOutcome & { duplicate: boolean }): void {
  deps.logger.info({ eventId: event.id, type: event.type, outcome: result.outcome, note: result.note, duplicate: result.duplicate }, 'stripe event processed');
  if (!result.duplicate) deps.metrics?.stripeEvents.inc({ type: event.type, outcome: result.outcome });
}

/** A queued event that failed leaves the processor's queue for the retry job, which backs off. */
async function handToRetryJob(deps: AppDeps, event: Stripe.Event, err: unknown): Promise<void> {
  deps.logger.warn({ err, eventId: event.id, type: event.type }, 'stripe event failed; queued for retry');
  await recordFailure(deps, event, err, { queueRetry: true });
}

async function recordFailure(deps: AppDeps, event: Stripe.Event, err: unknown, options: { queueRetry: boolean }): Promise<void> {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  deps.metrics?.stripeEvents.inc({ type: event.type, outcome: 'failed' });
  await deps.db.transaction().execute(async (trx) => {
    await insertEventFailure(trx, { eventId: event.id, error: message.slice(0, 2000), now: deps.clock.now() });
    // From here the retry job owns the event: the processor must not pick it up again.
    await dequeueEvent(trx, event.id);
    if (options.queueRetry) {
      // One pending retry per event; graphile-worker backs off exponentially between attempts.
      await addJob(trx, RETRY_STRIPE_EVENT_TASK, { eventId: event.id }, { jobKey: `stripe-event:${event.id}`, maxAttempts: 20 });
    }
  });
}
