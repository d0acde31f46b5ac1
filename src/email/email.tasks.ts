/** The email component's background jobs. */
import type { Task } from 'graphile-worker';
import type { AppDeps } from '../deps.js';
import { SEND_EMAIL_TASK, sendQueuedEmail } from './outbox.service.js';
import { createMailTransport, type MailTransport } from './transport.js';

export function emailTasks(deps: AppDeps): Record<string, Task> {
  let transport: MailTransport | undefined;
  const sendEmail: Task = async (payload, helpers) => {
    const emailId = (payload as { emailId?: unknown } | null)?.emailId;
    if (typeof emailId !== 'string') {
      helpers.logger.error(`send-email job ${helpers.job.id} has no emailId; dropping it`);
      return;
    }
    transport ??= createMailTransport(deps.config, deps.logger);
    await sendQueuedEmail(deps, transport, emailId);
  };
  return { [SEND_EMAIL_TASK]: sendEmail };
}
