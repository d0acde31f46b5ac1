/** The members component's background jobs. */
import type { Task } from 'graphile-worker';
import type { AppDeps } from '../deps.js';
import { pruneExpiredSignInRecords } from './sign-in.service.js';

export function memberTasks(deps: AppDeps): Record<string, Task> {
  return {
    'prune-sign-in-records': async () => {
      const pruned = await pruneExpiredSignInRecords(deps);
      deps.logger.info(pruned, 'pruned expired sign-in records');
    },
  };
}
