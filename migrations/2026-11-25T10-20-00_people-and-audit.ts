/**
 * People (everyone who pays or signs in; found by our own ids, email unique
 * case-insensitively) and the append-only audit log of admin actions and
 * changes to a person's details.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('people')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'text', (c) => c.notNull().check(sql`email ~ '^[^@\\s]+@[^@\\s]+$'`))
    .addColumn('name', 'text')
    .addColumn('roles', sql`text[]`, (c) =>
      c.notNull().defaultTo(sql`'{}'::text[]`).check(sql`roles <@ array['admin', 'treasurer']::text[]`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index people_email_unique on people (lower(email))`.execute(db);

  await db.schema.alterTable('donations').addColumn('person_id', 'uuid', (c) => c.references('people.id')).execute();
  await db.schema.createIndex('donations_person').on('donations').column('person_id').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    // Null when the system acted (a webhook, a scheduled job) rather than a person.
    .addColumn('actor_id', 'uuid', (c) => c.references('people.id'))
    .addColumn('actor_email', 'text')
    .addColumn('action', 'text', (c) => c.notNull().check(sql`action ~ '^[a-z_]+(\\.[a-z_]+)+$'`))
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('request_id', 'text')
    .execute();
  await db.schema.createIndex('audit_log_subject').on('audit_log').columns(['subject_type', 'subject_id']).execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
  await sql`create trigger audit_log_append_only before update or delete on audit_log
            for each row execute function refuse_change()`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on audit_log
            for each statement execute function refuse_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
  await db.schema.alterTable('donations').dropColumn('person_id').execute();
  await db.schema.dropTable('people').execute();
}
