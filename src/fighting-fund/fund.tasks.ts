/** The fighting fund's background work: keep this month's and next month's campaigns in place. */
import type { TaskList } from 'graphile-worker';
import type { AppDeps } from '../deps.js';
import { ensureUpcomingMonthlyCampaigns } from './campaigns.service.js';
import { invalidateFundCache } from './fund-cache.js';

export const ENSURE_CAMPAIGNS_TASK = 'ensure-fund-campaigns';

export function fundTasks(deps: AppDeps): TaskList {
  return {
    [ENSURE_CAMPAIGNS_TASK]: async (_payload, helpers) => {
      const created = await ensureUpcomingMonthlyCampaigns(deps);
      if (created.length > 0) {
        invalidateFundCache();
        helpers.logger.info(`created fighting-fund campaigns ${created.join(', ')}`);
      }
    },
  };
}

/** Hourly, so next month's campaign exists well before the turn of the month (getCurrentCampaign also creates it on demand). */
export const fundCrontab = ['# make sure this and next month have their fighting-fund campaigns', `0 * * * * ${ENSURE_CAMPAIGNS_TASK}`];
