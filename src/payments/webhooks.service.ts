/**
 * The Stripe webhook inbox. Each event is verified, stored once (keyed by its id)
 * and applied in ONE transaction with its result row, so an event is applied
 * exactly once however often, in whatever order and on however many instances
 * Stripe delivers it. A failing handler rolls back; the event is then stored
 * with a failure row and a retry job, and Stripe still gets its 2xx.
 */
import type Stripe from 'stripe';
import type { AppDeps } from '../app.js';
import { AppError } from '../lib/errors.js';
import { addJob } from '../lib/jobs.js';
import { dispatchEvent, type EventOutcome } from './event-appliers.js';
import type { PaymentHandlers } from './payment-handlers.js';
import {
  findEventPayload,
  findEventResult,
  insertEvent,
  insertEventFailure,
  insertEventResult,
  lockEvent,
} from './webhooks.repository.js';

export type WebhookErrorCode = 'invalid_signature' | 'invalid_event';

export const RETRY_STRIPE_EVENT_TASK = 'process-stripe-event';

export interface WebhookReceipt {
  received: true;
  eventId: string;
  /** 'duplicate' when the event had been applied before; 'queued' when it failed and waits for our retry. */
  outcome: 'applied' | 'ignored' | 'duplicate' | 'queued';
}

/** POST /webhooks/stripe: verifies, records and applies one event. */
export async function receiveStripeEvent(
  deps: AppDeps,
  handlers: PaymentHandlers,
  rawBody: Buffer,
  signature: string | undefined,
): Promise<WebhookReceipt> {
  const event = verifyEvent(deps, rawBody, signature);
  try {
    const result = await applyEvent(deps, handlers, event);
    return { received: true, eventId: event.id, outcome: result.duplicate ? 'duplicate' : result.outcome };
  } catch (err) {
    deps.logger.warn({ err, eventId: event.id, type: event.type }, 'stripe event failed; queued for retry');
    // If even this fails the error reaches Stripe as a 5xx, and Stripe retries the delivery.
    await recordFailure(deps, event, err, { queueRetry: true });
    return { received: true, eventId: event.id, outcome: 'queued' };
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
    return await applyEvent(deps, handlers, event);
  } catch (err) {
    await recordFailure(deps, event, err, { queueRetry: false });
    throw err;
  }
}

function verifyEvent(deps: AppDeps, rawBody: Buffer, signature: string | undefined): Stripe.Event {
  if (!signature) {
    throw new AppError<WebhookErrorCode>({ code: 'invalid_signature', status: 400, message: 'The Stripe-Signature header is missing.' });
  }
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
  return event;
}

async function applyEvent(deps: AppDeps, handlers: PaymentHandlers, event: Stripe.Event): Promise<EventOutcome & { duplicate: boolean }> {
  return deps.db.transaction().execute(async (trx) => {
    // A concurrent transaction inserting the same id waits here until the other commits or rolls back.
    const fresh = await insertEvent(trx, event, deps.clock.now());
    if (!fresh) {
      await lockEvent(trx, event.id);
      const done = await findEventResult(trx, event.id);
      if (done) return { outcome: done.outcome, note: done.note, duplicate: true };
    }
    const result = await dispatchEvent({ deps, trx, handlers, event });
    await insertEventResult(trx, { eventId: event.id, outcome: result.outcome, note: result.note, now: deps.clock.now() });
    deps.logger.info({ eventId: event.id, type: event.type, outcome: result.outcome, note: result.note }, 'stripe event processed');
    return { ...result, duplicate: false };
  });
}

async function recordFailure(deps: AppDeps, event: Stripe.Event, err: unknown, options: { queueRetry: boolean }): Promise<void> {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  await deps.db.transaction().execute(async (trx) => {
    await insertEvent(trx, event, deps.clock.now());
    await insertEventFailure(trx, { eventId: event.id, error: message.slice(0, 2000), now: deps.clock.now() });
    if (options.queueRetry) {
      // One pending retry per event; graphile-worker backs off exponentially between attempts.
      await addJob(trx, RETRY_STRIPE_EVENT_TASK, { eventId: event.id }, { jobKey: `stripe-event:${event.id}`, maxAttempts: 20 });
    }
  });
}
