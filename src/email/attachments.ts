/**
 * Attachments drawn when an email is sent, not when it is queued. A component that
 * attaches a document (the share certificate) queues a small description of it: which
 * kind, and the facts printed on it as at that moment. The send job draws it before it
 * takes the email's lock and outside any transaction, so the transaction that queued the
 * email (an allotment, holding the register's locks) never waits on a PDF.
 *
 * A kind must draw the same bytes from the same facts: a retried send, the dev outbox
 * viewer and the email all show the one document. The composition root registers the
 * kinds an instance draws (composition.ts).
 */
import type { z } from 'zod';
import type { EmailAttachment, EmailAttachmentToDraw } from '../db/schema.js';

export interface AttachmentKind<Facts> {
  /** Stored in each email that carries one (`draw`): never renamed once emails hold it. */
  name: string;
  contentType: string;
  /** Checks the stored facts when the document is drawn (they come back from jsonb). */
  facts: z.ZodType<Facts>;
  draw(facts: Facts): Promise<Buffer>;
}

/** The kinds an instance can draw, by name. */
export type AttachmentKinds = ReadonlyMap<string, AttachmentKind<unknown>>;

export function attachmentKinds(kinds: readonly AttachmentKind<unknown>[]): AttachmentKinds {
  return new Map(kinds.map((k) => [k.name, k]));
}

/** What to queue with the email: `filename`, drawn by `kind` from `facts` when the email is sent. */
export function attachmentToDraw<Facts>(kind: AttachmentKind<Facts>, filename: string, facts: Facts): EmailAttachmentToDraw {
  return { filename, contentType: kind.contentType, draw: kind.name, facts };
}

export interface AttachmentContent {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** The attachment's bytes: stored ones decoded, described ones drawn. */
export async function attachmentContent(kinds: AttachmentKinds, attachment: EmailAttachment): Promise<AttachmentContent> {
  const { filename, contentType } = attachment;
  if ('contentBase64' in attachment) return { filename, contentType, content: Buffer.from(attachment.contentBase64, 'base64') };
  const kind = kinds.get(attachment.draw);
  // A bug, not bad luck: the send fails and is retried (and shown as failed) until a release can draw it.
  if (!kind) throw new Error(`cannot draw ${filename}: no attachment kind '${attachment.draw}' is registered`);
  return { filename, contentType, content: await kind.draw(kind.facts.parse(attachment.facts)) };
}

/** Every attachment of an email, one after the other (a certificate is a few kilobytes, drawn in tens of milliseconds). */
export async function attachmentContents(kinds: AttachmentKinds, attachments: readonly EmailAttachment[]): Promise<AttachmentContent[]> {
  const contents: AttachmentContent[] = [];
  for (const attachment of attachments) contents.push(await attachmentContent(kinds, attachment));
  return contents;
}
