/** The email component's background jobs. */
import type { Task } from 'graphile-worker';
import type { AppDeps } from '../deps.js';
import type { AttachmentKinds } from './attachments.js';
import { SEND_EMAIL_TASK, sendQueuedEmail, type EmailSender } from './outbox.service.js';
import { createMailTransport } from './transport.js';

/** `attachmentKinds`: what the send job can draw (the composition root registers them). */
export function emailTasks(deps: AppDeps, attachmentKinds: AttachmentKinds): Record<string, Task> {
  let sender: EmailSender | undefined;
  const sendEmail: Task = async (payload, helpers) => {
    const emailId = (payload as { emailId?: unknown } | null)?.emailId;
    if (typeof emailId !== 'string') {
      helpers.logger.error(`send-email job ${helpers.job.id} has no emailId; dropping it`);
      return;
    }
    sender ??= { transport: createMailTransport(deps.config, deps.logger), attachmentKinds };
    await sendQueuedEmail(deps, sender, emailId);
  };
  return { [SEND_EMAIL_TASK]: sendEmail };
}
