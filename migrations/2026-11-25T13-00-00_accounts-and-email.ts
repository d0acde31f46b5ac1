/**
 * What people need to sign in and hear from us: their details (postal address,
 * email preferences), the session version that "sign out everywhere" bumps,
 * single-use sign-in tokens (stored hashed), ended sessions, login rate-limit
 * windows shared by every instance, and the email outbox.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('people')
    // { line1, line2?, town, postcode, country }
    .addColumn('postal_address', 'jsonb')
    .addColumn('email_preferences', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // Part of every session token: bumping it ends every session the person has.
    .addColumn('session_version', 'integer', (c) => c.notNull().defaultTo(1).check(sql`session_version > 0`))
    .addColumn('last_signed_in_at', 'timestamptz')
    .addColumn('erased_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('login_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // sha256 of the token, hex: a leaked table does not sign anyone in.
    .addColumn('token_hash', 'text', (c) => c.notNull().unique().check(sql`token_hash ~ '^[0-9a-f]{64}$'`))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addCheckConstraint('login_tokens_expiry_after_creation', sql`expires_at > created_at`)
    .execute();
  await db.schema.createIndex('login_tokens_expires').on('login_tokens').column('expires_at').execute();

  // Sessions ended by "sign out" before their token expired; checked on every signed-in request.
  await db.schema
    .createTable('ended_sessions')
    .addColumn('session_id', 'text', (c) => c.primaryKey())
    .addColumn('person_id', 'uuid', (c) => c.notNull().references('people.id'))
    .addColumn('ended_at', 'timestamptz', (c) => c.notNull())
    // After this the token is expired anyway and the row can go.
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ended_sessions_expires').on('ended_sessions').column('expires_at').execute();

  // Fixed-window counters: one upsert per request, correct across instances.
  await db.schema
    .createTable('rate_limit_windows')
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('hits', 'integer', (c) => c.notNull().check(sql`hits > 0`))
    .addPrimaryKeyConstraint('rate_limit_windows_pk', ['bucket', 'window_start'])
    .execute();
  await db.schema.createIndex('rate_limit_windows_start').on('rate_limit_windows').column('window_start').execute();

  await db.schema
    .createTable('emails')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('person_id', 'uuid', (c) => c.references('people.id'))
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('html', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    // [{ filename, contentType, contentBase64 }]
    .addColumn('attachments', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    // Deterministic, chosen before the first attempt: every retry sends the same Message-ID.
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    // "At most one email per key" (e.g. 'donation-receipt:pi_..'): the same money reported twice emails once.
    .addColumn('dedupe_key', 'text', (c) => c.unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0).check(sql`attempts >= 0`))
    .addColumn('last_attempt_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'timestamptz')
    // What the transport answered (SMTP response, or where the .eml file was written).
    .addColumn('transport_response', 'text')
    .execute();
  await db.schema.createIndex('emails_person').on('emails').column('person_id').execute();
  await sql`create index emails_unsent on emails (created_at) where sent_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('emails').execute();
  await db.schema.dropTable('rate_limit_windows').execute();
  await db.schema.dropTable('ended_sessions').execute();
  await db.schema.dropTable('login_tokens').execute();
  await db.schema
    .alterTable('people')
    .dropColumn('erased_at')
    .dropColumn('last_signed_in_at')
    .dropColumn('session_version')
    .dropColumn('email_preferences')
    .dropColumn('postal_address')
    .execute();
}
