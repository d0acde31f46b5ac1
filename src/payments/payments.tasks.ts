/** Background work of the payments component: our own retry of Stripe events whose handler failed. */
import type { TaskList } from 'graphile-worker';
import { z } from 'zod';
import { buildPaymentHandlers } from '../composition.js';
import type { AppDeps } from '../deps.js';
import { RETRY_STRIPE_EVENT_TASK, retryStripeEvent } from './webhooks.service.js';

const retryPayload = z.object({ eventId: z.string().min(1) });

export function paymentTasks(deps: AppDeps): TaskList {
  const handlers = buildPaymentHandlers(deps);
  return {
    // Throws while the event still fails, so graphile-worker retries it with exponential backoff.
    [RETRY_STRIPE_EVENT_TASK]: async (payload) => {
      const { eventId } = retryPayload.parse(payload);
      const result = await retryStripeEvent(deps, handlers, eventId);
      deps.logger.info({ eventId, outcome: result.outcome, duplicate: result.duplicate }, 'stripe event retried');
    },
  };
}
