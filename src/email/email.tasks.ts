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
    sender ??= { transport: createMailTransport(deps.config, deps.logger), attachmentKinds };
    // The emails of one transaction share a job (outbox.service.ts withOneSendJob): one after another,
    // each settled on its own, so graphile-worker retries only those that failed.
    if (Array.isArray(payload) && payload.length > 0 && payload.every((id) => typeof id === 'string')) {
      const failures: (Error | null)[] = [];
      for (const emailId of payload) {
        try {
          await sendQueuedEmail(deps, sender, emailId);
          failures.push(null);
        } catch (err) {
          failures.push(err instanceof Error ? err : new Error(String(err)));
        }
      }
      // Made only now, all at once, so that no rejection waits unhandled while the next email is sent.
      return failures.map((err) => (err ? Promise.reject(err) : Promise.resolve()));
    }
    const emailId = (payload as { emailId?: unknown } | null)?.emailId;
    if (typeof emailId !== 'string') {
      helpers.logger.error(`send-email job ${helpers.job.id} names no email; dropping it`);
      return;
    }
    await sendQueuedEmail(deps, sender, emailId);
  };
  return { [SEND_EMAIL_TASK]: sendEmail };
}
