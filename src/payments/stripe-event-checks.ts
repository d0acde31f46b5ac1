/**
 * Checks on a Stripe webhook delivery beyond its signature.
 *
 * - The signature's timestamp must lie within the tolerance on BOTH sides of now:
 *   the stripe package refuses only old ones, so a body signed with a timestamp an
 *   hour ahead (a leaked signature kept for later, a wrong clock) was accepted.
 * - Events whose `api_version` is not the pinned one (the endpoint in the Stripe
 *   dashboard set to another version) are stored as before, but a warning is logged
 *   once per version, and /readyz lists the versions seen, so someone fixes it.
 *
 * - A validly signed event whose JSON holds a NUL (`\u0000`) or a lone surrogate
 *   (`\ud800`) cannot be stored in a jsonb column. Answering 5xx would make Stripe
 *   deliver it again for days, and a real payment would never be booked; so such an
 *   event is stored with U+FFFD in place of each such character (only free text, a
 *   name or a description, can hold them: ids, amounts and types cannot), applied as
 *   any other, and a warning logged.
 *
 * Timestamps are checked against the real time, as the stripe package's own check:
 * staleness is about the delivery, not the domain clock.
 */
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import { AppError } from '../lib/errors.js';
import { findUnstorableText, replaceUnstorableText } from '../lib/input-guard.js';
import { STRIPE_API_VERSION } from './stripe-client.js';

/** Seconds a signature's timestamp may differ from now, either way (Stripe's default). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** 400 invalid_signature when the Stripe-Signature's timestamp is too far in the future (the past is the stripe package's check). */
export function assertSignatureTimestampNotAhead(signature: string, nowMs: number = Date.now()): void {
  const timestamps = signature
    .split(',')
    .map((part) => part.trim().split('='))
    .filter(([key, value]) => key === 't' && value !== undefined && /^\d{1,15}$/.test(value))
    .map(([, value]) => Number(value));
  if (timestamps.some((t) => t * 1000 > nowMs + WEBHOOK_TOLERANCE_SECONDS * 1000)) {
    throw new AppError({
      code: 'invalid_signature',
      status: 400,
      message: 'The Stripe-Signature timestamp lies in the future, beyond the tolerance.',
    });
  }
}

// Per app (keyed by its deps' logger), never shared between apps in one process.
const seenByApp = new WeakMap<object, Set<string>>();

/** Notes an event's api_version; logs a warning the first time a version other than the pinned one is seen. */
export function noteEventApiVersion(deps: Pick<AppDeps, 'logger'>, event: { id: string; type: string; api_version?: string | null }): void {
  const version = event.api_version;
  if (!version || version === STRIPE_API_VERSION) return;
  let seen = seenByApp.get(deps.logger);
  if (!seen) seenByApp.set(deps.logger, (seen = new Set()));
  if (seen.has(version)) return;
  seen.add(version);
  deps.logger.warn(
    { apiVersion: version, pinnedApiVersion: STRIPE_API_VERSION, eventId: event.id, type: event.type },
    'stripe event with an API version other than the pinned one: set the webhook endpoint to the pinned version in the Stripe dashboard',
  );
}

/**
 * Whether a parsed JSON value has the shape of a Stripe event we can act on: an
 * `evt_` id, a type, a whole-second `created` and a `data.object`. The one check for
 * a delivery's body (webhooks.service.ts, after its signature is verified) and for
 * an event read back from the inbox (webhooks.repository.ts).
 */
export function isStripeEvent(value: unknown): value is Stripe.Event {
  if (typeof value !== 'object' || value === null) return false;
  const { id, type, created, data } = value as Record<string, unknown>;
  return (
    typeof id === 'string' &&
    /^evt_\w{1,250}$/.test(id) &&
    typeof type === 'string' &&
    Number.isSafeInteger(created) &&
    typeof data === 'object' &&
    data !== null &&
    typeof (data as Record<string, unknown>).object === 'object' &&
    (data as Record<string, unknown>).object !== null
  );
}

/** For /readyz: the pinned version and any other version events arrived with since the start. */
export function stripeApiVersionReport(deps: Pick<AppDeps, 'logger'>): { pinned: string; otherVersionsSeen: string[] } {
  return { pinned: STRIPE_API_VERSION, otherVersionsSeen: [...(seenByApp.get(deps.logger) ?? [])].sort() };
}

/** The event and the body to store: as received, or, when jsonb cannot hold some of its text, with U+FFFD in its place. */
export function storableEvent(deps: Pick<AppDeps, 'logger'>, event: Stripe.Event, rawBody: Buffer): { event: Stripe.Event; body: Buffer } {
  const unstorable = findUnstorableText(event);
  if (unstorable.length === 0) return { event, body: rawBody };
  const cleaned = replaceUnstorableText(event);
  deps.logger.warn(
    { eventId: event.id, type: event.type, fields: unstorable },
    'stripe event holds characters the database cannot store (NUL, lone surrogate): stored with U+FFFD in their place',
  );
  return { event: cleaned, body: Buffer.from(JSON.stringify(cleaned), 'utf8') };
}
