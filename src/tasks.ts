/**
 * The background jobs (graphile-worker tasks) and their schedule. Jobs are
 * added inside the transaction of the change that causes them (lib/jobs.ts).
 */
import type { TaskList } from 'graphile-worker';
import type { AppDeps } from './app.js';

export function buildTaskList(_deps: AppDeps): TaskList {
  return {};
}

/** graphile-worker crontab lines (minute hour day month weekday task). */
export const crontab = '';
