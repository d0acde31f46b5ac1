/** Background work of the payments component: applying recorded Stripe events (apply-stripe-events.ts). */
import type { TaskList } from 'graphile-worker';
import { buildEventAppliers, buildPaymentHandlers } from '../composition.js';
import type { AppDeps } from '../deps.js';
import { applyStripeEventsTask } from './apply-stripe-events.js';
import { APPLY_STRIPE_EVENTS_TASK } from './webhooks.repository.js';

export function paymentTasks(deps: AppDeps): TaskList {
  return {
    // A batch job: one promise per event, so a retry (with backoff) holds only the events that failed.
    [APPLY_STRIPE_EVENTS_TASK]: applyStripeEventsTask(deps, { appliers: buildEventAppliers(), handlers: buildPaymentHandlers(deps) }),
  };
}
