/**
 * Where email goes: the SMTP server in SMTP_URL, or (without one) an `.eml`
 * file per message under DATA_DIR/outbox, with a log line saying where.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';
import type { Email } from '../db/schema.js';
import type { Logger } from '../lib/logger.js';
import type { AttachmentContent } from './attachments.js';

export interface MailTransport {
  /**
   * Hands the message over with its attachments' bytes (drawn by the outbox, not read from
   * `email.attachments`); resolves with what the other side said (or the file written).
   */
  send(email: Email, attachments: readonly AttachmentContent[]): Promise<string>;
}

function toNodemailerMessage(email: Email, attachments: readonly AttachmentContent[], replyTo: string) {
  return {
    from: email.from_address,
    replyTo,
    to: email.to_address,
    subject: email.subject,
    html: email.html,
    text: email.text,
    // Deterministic: a retry of the same email carries the same Message-ID, so receivers can tell.
    messageId: email.message_id,
    date: email.created_at,
    attachments: attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
  };
}

export function createMailTransport(config: Config, logger: Logger): MailTransport {
  if (config.mail.smtpUrl) return smtpTransport(config.mail.smtpUrl, config.mail.replyTo);
  return fileTransport(config.mail.outboxDir, config.mail.replyTo, logger);
}

function smtpTransport(url: string, replyTo: string): MailTransport {
  const transporter = nodemailer.createTransport({
    url,
    // Fail fast enough for the job to be retried later rather than hang a worker slot.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  } as nodemailer.TransportOptions);
  return {
    async send(email, attachments) {
      const info = (await transporter.sendMail(toNodemailerMessage(email, attachments, replyTo))) as { response?: string; messageId?: string };
      return `smtp: ${info.response ?? 'accepted'}`;
    },
  };
}

function fileTransport(outboxDir: string, replyTo: string, logger: Logger): MailTransport {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(email, attachments) {
      const info = (await composer.sendMail(toNodemailerMessage(email, attachments, replyTo))) as { message: Buffer };
      await fs.mkdir(outboxDir, { recursive: true });
      const stamp = email.created_at.toISOString().replace(/[:.]/g, '-');
      // Named by the email's id: a retry overwrites the same file instead of adding a second.
      const file = path.join(outboxDir, `${stamp}_${email.id}.eml`);
      // Written beside it, then renamed: whoever watches the folder never reads half a message.
      const partial = `${file}.${process.pid}.partial`;
      await fs.writeFile(partial, info.message);
      await fs.rename(partial, file);
      logger.info({ file, emailId: email.id, to: email.to_address, subject: email.subject }, `email written to ${file} (SMTP_URL is not set)`);
      return `file: ${file}`;
    },
  };
}
