/** The admin desk's background work: the daily reconciliation with Stripe. */
import type { TaskList } from 'graphile-worker';
import type { AppDeps } from '../deps.js';
import { reconcileYesterday } from './reconciliation.service.js';

export const RECONCILE_TASK = 'reconcile-stripe-daily';

export function adminTasks(deps: AppDeps): TaskList {
  return {
    [RECONCILE_TASK]: async (_payload, helpers) => {
      const report = await reconcileYesterday(deps);
      helpers.logger.info(`reconciled yesterday with Stripe: ${report ? `${report.differences.length} differences` : 'Stripe did not answer'}`);
    },
  };
}

/** Early each morning, for the day before (UTC on the machine's cron; the period is the society's calendar day). */
export const adminCrontab = ['# compare yesterday with Stripe and tell the treasurer when something is off', `40 5 * * * ${RECONCILE_TASK}`];
