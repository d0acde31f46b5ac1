/** The shares component's background jobs and their schedule. */
import type { Task } from 'graphile-worker';
import type { AppDeps } from '../deps.js';
import { REFUND_SHARE_PAYMENT_TASK, refundSharePayment } from './share-refusals.js';
import { expireStaleApplications } from './applications.service.js';

export const EXPIRE_STALE_APPLICATIONS_TASK = 'shares:expire-stale-applications';

export function shareTasks(deps: AppDeps): Record<string, Task> {
  const refund: Task = async (payload, helpers) => {
    const { applicationId, paymentIntentId } = (payload ?? {}) as { applicationId?: unknown; paymentIntentId?: unknown };
    if (typeof applicationId !== 'string' || typeof paymentIntentId !== 'string') {
      helpers.logger.error(`${REFUND_SHARE_PAYMENT_TASK} job ${helpers.job.id} lacks applicationId/paymentIntentId; dropping it`);
      return;
    }
    // A throw (Stripe not answering) leaves the job to graphile-worker's retries; the idempotency key keeps it one refund.
    await refundSharePayment(deps, { applicationId, paymentIntentId });
  };
  const expire: Task = async () => {
    await expireStaleApplications(deps);
  };
  return { [REFUND_SHARE_PAYMENT_TASK]: refund, [EXPIRE_STALE_APPLICATIONS_TASK]: expire };
}

/** Hourly: applications whose checkout can no longer be paid stop holding room under the cap. */
export const sharesCrontab = ['# share applications left pending past every checkout expiry', `23 * * * * ${EXPIRE_STALE_APPLICATIONS_TASK}`];
