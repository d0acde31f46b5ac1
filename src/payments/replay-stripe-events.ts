/**
 * Replaying Stripe events that never arrived (reconciliation's repair): each is
 * recorded exactly as a webhook delivery is (the inbox row with its job), then
 * applied at once by the same function the job runs, so the same appliers and
 * payment handlers book it. The job, when it runs, finds it applied.
 */
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import { applyStripeEvents, type EventApplication } from './apply-stripe-events.js';
import { createEventRecorder, type RecordOutcome } from './record-stripe-events.js';

export interface EventReplayer {
  record(event: Stripe.Event, rawBody: Buffer): Promise<RecordOutcome>;
  /** Applies the recorded events now; throws when one of them failed (its job retries it). */
  apply(eventIds: string[]): Promise<void>;
}

export function createEventReplayer(deps: AppDeps, application: EventApplication): EventReplayer {
  const recorder = createEventRecorder(deps);
  return {
    record: (event, rawBody) => recorder.record(event, rawBody),
    async apply(eventIds) {
      if (eventIds.length === 0) return;
      const results = await applyStripeEvents(deps, application, eventIds);
      const failed = [...results.values()].find((r) => r instanceof Error);
      if (failed) throw failed;
    },
  };
}
