/**
 * The Stripe webhook inbox. POST /webhooks/stripe verifies an event and records
 * it durably (stored once, keyed by its id, with the graphile-worker job that
 * applies it, in one statement: record-stripe-events.ts) before answering 2xx;
 * the job (apply-stripe-events.ts) then applies the event in ONE transaction with
 * its result row, so it is applied exactly once however often, in whatever order
 * and on however many instances Stripe delivers it.
 */
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import { AppError } from '../lib/errors.js';
import { assertSignatureTimestampNotAhead, isStripeEvent, noteEventApiVersion, storableEvent } from './stripe-event-checks.js';
import type { EventRecorder } from './record-stripe-events.js';

export type WebhookErrorCode = 'invalid_signature' | 'invalid_event';

export interface WebhookReceipt {
  received: true;
  eventId: string;
  /** 'recorded': stored now with its job, which applies it next; 'duplicate': this event id had been received before. */
  outcome: 'recorded' | 'duplicate';
}

/** POST /webhooks/stripe: verifies the event and records it durably; applying it is its job's work. */
export async function receiveStripeEvent(
  deps: AppDeps,
  recorder: EventRecorder,
  rawBody: Buffer,
  signature: string | undefined,
): Promise<WebhookReceipt> {
  // Text jsonb cannot hold (a NUL, a lone surrogate) is replaced, so Stripe's event is stored, never answered 5xx for days.
  const { event, body } = storableEvent(deps, verifyEvent(deps, rawBody, signature), rawBody);
  // Rejects when it could not be stored: the error answers 5xx, and Stripe delivers again.
  const outcome = await recorder.record(event, body);
  deps.metrics?.stripeDeliveries.inc({ type: event.type, outcome });
  return { received: true, eventId: event.id, outcome };
}

function verifyEvent(deps: AppDeps, rawBody: Buffer, signature: string | undefined): Stripe.Event {
  if (!signature) {
    throw new AppError<WebhookErrorCode>({ code: 'invalid_signature', status: 400, message: 'The Stripe-Signature header is missing.' });
  }
  // The stripe package refuses only old timestamps; one ahead of now is refused here.
  assertSignatureTimestampNotAhead(signature);
  let event: unknown;
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
  // The stripe package only parses the body: JSON null or a number is possible here.
  if (!isStripeEvent(event)) {
    throw new AppError<WebhookErrorCode>({ code: 'invalid_event', status: 400, message: 'The body is not a Stripe event.' });
  }
  noteEventApiVersion(deps, event);
  return event;
}
