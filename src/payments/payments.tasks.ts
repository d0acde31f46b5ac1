/** Background work of the payments component: applying recorded Stripe events (apply-stripe-events.ts). */
import type { TaskList } from 'graphile-worker';
import type { AppDeps } from '../deps.js';
import { applyStripeEventsTask } from './apply-stripe-events.js';
import type { EventAppliers } from './event-appliers.js';
import type { PaymentHandlers } from './payment-handlers.js';
import { APPLY_STRIPE_EVENTS_TASK } from './webhooks.repository.js';

/** The registries come from the composition root (composition.ts): who acts on which event and payment. */
export function paymentTasks(deps: AppDeps, registries: { appliers: EventAppliers; handlers: PaymentHandlers }): TaskList {
  return {
    // A batch job: one promise per event, so a retry (with backoff) holds only the events that failed.
    [APPLY_STRIPE_EVENTS_TASK]: applyStripeEventsTask(deps, registries),
  };
}
