/** SQL for the email outbox. */
import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../db/database.js';
import type { Email, EmailAttachment } from '../db/schema.js';

export interface NewEmail {
  id: string;
  personId: string | null;
  template: string;
  to: string;
  from: string;
  subject: string;
  html: string;
  text: string;
  attachments: EmailAttachment[];
  messageId: string;
  dedupeKey: string | null;
  createdAt: Date;
}

/**
 * Inserts the email and, only if it was inserted, runs `alsoWhenInserted` (an SQL
 * expression such as its send job's add_job call), in one statement. False when
 * one with the same dedupe key exists already.
 */
export async function insertEmail(db: Executor, email: NewEmail, alsoWhenInserted?: RawBuilder<unknown>): Promise<boolean> {
  const insert = db
    .insertInto('emails')
    .values({
      id: email.id,
      person_id: email.personId,
      template: email.template,
      to_address: email.to,
      from_address: email.from,
      subject: email.subject,
      html: email.html,
      text: email.text,
      attachments: JSON.stringify(email.attachments),
      message_id: email.messageId,
      dedupe_key: email.dedupeKey,
      created_at: email.createdAt,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('id');
  if (!alsoWhenInserted) return (await insert.executeTakeFirst()) !== undefined;
  // A set-returning call in FROM runs once per inserted row, so never for a duplicate.
  const inserted = await db
    .with('inserted', () => insert)
    .selectFrom(['inserted', sql`lateral ${alsoWhenInserted}`.as('also')])
    .select('inserted.id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findEmailIdByDedupeKey(db: Executor, dedupeKey: string): Promise<string | undefined> {
  const row = await db.selectFrom('emails').select('id').where('dedupe_key', '=', dedupeKey).executeTakeFirst();
  return row?.id;
}

/** Locks the row so two runs for the same email never send it side by side. */
export async function lockEmail(db: Executor, id: string): Promise<Email | undefined> {
  return db.selectFrom('emails').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function markEmailSent(db: Executor, id: string, at: Date, response: string): Promise<void> {
  await db
    .updateTable('emails')
    .set((eb) => ({ sent_at: at, transport_response: response, last_error: null, attempts: eb('attempts', '+', 1), last_attempt_at: at }))
    .where('id', '=', id)
    .execute();
}

export async function recordEmailFailure(db: Executor, id: string, at: Date, error: string): Promise<void> {
  await db
    .updateTable('emails')
    .set((eb) => ({ last_error: error.slice(0, 2000), attempts: eb('attempts', '+', 1), last_attempt_at: at }))
    .where('id', '=', id)
    .execute();
}

export async function listEmailsForPerson(db: Executor, personId: string): Promise<Email[]> {
  return db.selectFrom('emails').selectAll().where('person_id', '=', personId).orderBy('created_at').execute();
}

/**
 * Erasure: the bodies go; that a message of this kind was sent (and when) stays. Both the
 * person's emails and any sent to their address before the person record existed (sign-in links).
 */
export async function redactEmailsForPerson(db: Executor, personId: string, address: string, placeholderAddress: string): Promise<number> {
  const result = await db
    .updateTable('emails')
    .set({ to_address: placeholderAddress, html: '', text: '', subject: '(erased)', attachments: '[]', transport_response: null, last_error: null })
    .where((eb) => eb.or([eb('person_id', '=', personId), eb(sql<string>`lower(to_address)`, '=', address.toLowerCase())]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The outbox viewer (/sandbox/emails, development only): the newest emails first. */
export async function listRecentEmails(db: Executor, limit: number) {
  return db
    .selectFrom('emails')
    .select(['id', 'to_address', 'subject', 'template', 'created_at', 'sent_at', 'last_error'])
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function findEmail(db: Executor, id: string): Promise<Email | undefined> {
  return db.selectFrom('emails').selectAll().where('id', '=', id).executeTakeFirst();
}
