/**
 * The outbox: every email is rendered and stored in the same transaction as the
 * change that causes it, together with a graphile-worker job that sends it (and
 * draws its attachments first: attachments.ts).
 * A crash between commit and send loses nothing (the job is still there); a run
 * for an email already sent does nothing; every attempt carries the same
 * Message-ID.
 *
 *   await db.transaction().execute(async (trx) => {
 *     ... the change ...
 *     await queueEmail(deps, trx, { to, template: 'donation-receipt', vars: { ... }, personId });
 *   });
 *
 * Each email gets its own send job, except inside `withOneSendJob(trx, work)`: the
 * emails `work` queues share one (a graphile-worker batch job holding their ids).
 * The job applying a burst of Stripe events books many payments in one transaction,
 * and adding a job costs the database more than storing the email itself.
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../deps.js';
import type { Executor } from '../db/database.js';
import type { Email, EmailAttachment } from '../db/schema.js';
import { addJob, addJobCall } from '../lib/jobs.js';
import type { Logger } from '../lib/logger.js';
import { attachmentContents, type AttachmentContent, type AttachmentKinds } from './attachments.js';
import { findEmail, findEmailIdByDedupeKey, insertEmail, listEmailsForPerson, lockEmail, markEmailSent, recordEmailFailure, redactEmailsForPerson } from './outbox.repository.js';
import { renderEmail } from './render.js';
import type { MailTransport } from './transport.js';

export type EmailDeps = Pick<AppDeps, 'config' | 'clock'>;

export const SEND_EMAIL_TASK = 'send-email';
/** How often a send job is tried (exponential backoff: over a day in all). */
const SEND_EMAIL_MAX_ATTEMPTS = 25;

/** The transactions inside withOneSendJob, with the ids of the emails queued in them so far. */
const sharedSendJobs = new WeakMap<Executor, string[]>();

/**
 * Runs `work` inside `trx`; the emails it queues through this same `trx` are sent by ONE
 * job, added (still inside `trx`) when `work` has finished. A failing email is retried on
 * its own: the send task settles each id of the batch separately.
 */
export async function withOneSendJob<T>(trx: Executor, work: () => Promise<T>): Promise<T> {
  if (sharedSendJobs.has(trx)) return work();
  const emailIds: string[] = [];
  sharedSendJobs.set(trx, emailIds);
  let result: T;
  try {
    result = await work();
  } finally {
    sharedSendJobs.delete(trx);
  }
  if (emailIds.length > 0) await addJob(trx, SEND_EMAIL_TASK, emailIds, { maxAttempts: SEND_EMAIL_MAX_ATTEMPTS });
  return result;
}

export interface QueueEmailInput {
  to: string;
  /** templates/emails/<template>.{subject,html,txt}.liquid */
  template: string;
  vars?: Record<string, unknown>;
  personId?: string | null;
  /** Stored bytes, or (for anything slow to make, such as a PDF) a description drawn when sending: attachments.ts. */
  attachments?: EmailAttachment[];
  /**
   * At most one email per key, ever (e.g. `donation-receipt:pi_123`): queueing again
   * with the same key does nothing and returns the first email's id.
   */
  dedupeKey?: string;
}

/** Renders and stores the email and adds its send job, all inside `trx`. */
export async function queueEmail(deps: EmailDeps, trx: Executor, input: QueueEmailInput): Promise<{ emailId: string }> {
  const rendered = renderEmail(deps.config, input.template, input.vars ?? {});
  const id = randomUUID();
  const sharedJob = sharedSendJobs.get(trx);
  // Insert first: a dedupe key seen before is the rare case, and costs the look-up only then.
  const inserted = await insertEmail(
    trx,
    {
      id,
      personId: input.personId ?? null,
      template: input.template,
      to: input.to,
      from: deps.config.mail.from,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      attachments: input.attachments ?? [],
      messageId: `<${id}@${messageIdDomain(deps.config.publicUrl)}>`,
      dedupeKey: input.dedupeKey ?? null,
      createdAt: deps.clock.now(),
    },
    // Added by the same statement, only if the email was: job_key keeps one pending job per email.
    sharedJob ? undefined : addJobCall(SEND_EMAIL_TASK, { emailId: id }, { jobKey: `send-email:${id}`, maxAttempts: SEND_EMAIL_MAX_ATTEMPTS }),
  );
  if (inserted) {
    sharedJob?.push(id);
    return { emailId: id };
  }
  // The key was queued before (or by a concurrent transaction, which ON CONFLICT waited for): that email stands.
  const existing = input.dedupeKey ? await findEmailIdByDedupeKey(trx, input.dedupeKey) : undefined;
  if (!existing) throw new Error(`email ${input.template} was not stored, and no email holds its dedupe key`);
  return { emailId: existing };
}

function messageIdDomain(publicUrl: string): string {
  return new URL(publicUrl).hostname || 'localhost';
}

export type SendOutcome = 'sent' | 'already_sent' | 'missing' | 'erased';

/** How an instance sends: where the mail goes, and the attachment kinds it can draw. */
export interface EmailSender {
  transport: MailTransport;
  attachmentKinds: AttachmentKinds;
}

/**
 * The send job. Draws the email's attachments first, outside any transaction, then
 * holds the email's row lock while sending, so two runs for the same email (a
 * duplicate job, two workers) send it once. A failure is recorded and rethrown:
 * graphile-worker retries with exponential backoff.
 */
export async function sendQueuedEmail(
  deps: Pick<AppDeps, 'db' | 'clock' | 'metrics'> & { logger: Logger },
  sender: EmailSender,
  emailId: string,
): Promise<SendOutcome> {
  let failure: unknown;
  let template = 'unknown';
  const send = async (): Promise<SendOutcome | 'failed'> => {
    // Nothing of a queued email changes but its sending and its erasure (both checked again under the lock).
    const queued = await findEmail(deps.db, emailId);
    const notNow = whyNotSend(queued);
    if (notNow || !queued) return notNow ?? 'missing';
    template = queued.template;
    let attachments: AttachmentContent[];
    try {
      attachments = await attachmentContents(sender.attachmentKinds, queued.attachments);
    } catch (err) {
      failure = err;
      return 'failed';
    }
    return deps.db.transaction().execute(async (trx): Promise<SendOutcome | 'failed'> => {
      const email = await lockEmail(trx, emailId);
      const notAnyMore = whyNotSend(email);
      if (notAnyMore || !email) return notAnyMore ?? 'missing';
      try {
        const response = await sender.transport.send(email, attachments);
        await markEmailSent(trx, email.id, deps.clock.now(), response);
        return 'sent';
      } catch (err) {
        failure = err;
        return 'failed';
      }
    });
  };
  const outcome = await send();
  if (outcome === 'failed' || outcome === 'sent') deps.metrics?.emails.inc({ template, outcome });
  if (outcome === 'failed') {
    await recordEmailFailure(deps.db, emailId, deps.clock.now(), failure instanceof Error ? failure.message : String(failure));
    deps.logger.warn({ err: failure, emailId }, 'sending an email failed; it will be retried');
    throw failure;
  }
  if (outcome === 'sent') deps.logger.info({ emailId }, 'email sent');
  else deps.logger.info({ emailId, outcome }, 'email not sent');
  return outcome;
}

function whyNotSend(email: Email | undefined): Exclude<SendOutcome, 'sent'> | undefined {
  if (!email) return 'missing';
  if (email.sent_at) return 'already_sent';
  if (isErased(email)) return 'erased';
  return undefined;
}

function isErased(email: Email): boolean {
  return email.to_address.endsWith('.invalid');
}

/**
 * Signed links in a past email (sign-in, one-click manage or cancel) are keys, not data about
 * the person: a data export that carried them would hand a working sign-in to whoever reads it.
 */
export function withoutSignedLinks(text: string): string {
  return text.replace(/([?&](?:token|t|sig|signature|key)=)[^\s&"'<>)\]]+/gi, '$1(removed)');
}

/** For the person's data export: what we sent them, without attachments' contents or signed links. */
export async function emailsForPerson(db: Executor, personId: string) {
  const rows = await listEmailsForPerson(db, personId);
  return rows.map((e) => ({
    id: e.id,
    to: e.to_address,
    subject: e.subject,
    template: e.template,
    createdAt: e.created_at.toISOString(),
    sentAt: e.sent_at?.toISOString() ?? null,
    text: withoutSignedLinks(e.text),
    attachments: e.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType })),
  }));
}

/** For erasure: keeps that an email was sent, drops who to and what it said. */
export function redactEmailsOfPerson(db: Executor, personId: string, address: string, placeholderAddress: string) {
  return redactEmailsForPerson(db, personId, address, placeholderAddress);
}
