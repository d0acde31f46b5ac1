/**
 * The background jobs (graphile-worker tasks) and their schedule. Jobs are
 * added inside the transaction of the change that causes them (lib/jobs.ts).
 * The composition root (composition.ts) builds the task list with its registries.
 */
import type { TaskList } from 'graphile-worker';
import type { AppDeps } from './deps.js';
import { adminCrontab, adminTasks } from './admin/admin.tasks.js';
import type { AttachmentKinds } from './email/attachments.js';
import { emailTasks } from './email/email.tasks.js';
import { memberTasks } from './members/members.tasks.js';
import { fundCrontab, fundTasks } from './fighting-fund/fund.tasks.js';
import type { EventAppliers } from './payments/event-appliers.js';
import type { PaymentHandlers } from './payments/payment-handlers.js';
import { paymentTasks } from './payments/payments.tasks.js';
import { redactionCrontab, redactionTasks } from './payments/redaction.tasks.js';
import { shareTasks, sharesCrontab } from './shares/shares.tasks.js';

export function buildTaskList(deps: AppDeps, registries: { appliers: EventAppliers; handlers: PaymentHandlers; attachmentKinds: AttachmentKinds }): TaskList {
  return {
    ...emailTasks(deps, registries.attachmentKinds),
    ...memberTasks(deps),
    ...fundTasks(deps),
    ...paymentTasks(deps, registries),
    ...shareTasks(deps),
    ...redactionTasks(deps),
    ...adminTasks(deps),
  };
}

/** graphile-worker crontab lines (minute hour day month weekday task). */
export const crontab = ['# prune expired sign-in tokens, ended sessions and rate-limit windows', '17 4 * * * prune-sign-in-records', ...fundCrontab, ...sharesCrontab, ...redactionCrontab, ...adminCrontab].join('\n');
