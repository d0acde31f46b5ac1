/** The job that strips applied Stripe events of their personal fields (payload-redaction.service.ts). */
import type { Task } from 'graphile-worker';
import type { AppDeps } from '../deps.js';
import { REDACT_STRIPE_PAYLOADS_TASK, redactAppliedStripeEvents } from './payload-redaction.service.js';

export function redactionTasks(deps: AppDeps): Record<string, Task> {
  return {
    [REDACT_STRIPE_PAYLOADS_TASK]: async () => {
      const redacted = await redactAppliedStripeEvents(deps);
      if (redacted > 0) deps.logger.info({ redacted }, 'personal fields removed from applied stripe events');
    },
  };
}

/** Hourly: an applied event keeps its customer's details no longer than that (erasure strips them at once). */
export const redactionCrontab = ['# strip applied stripe events of personal fields', `7 * * * * ${REDACT_STRIPE_PAYLOADS_TASK}`];
