/**
 * The treasurer's desk: an offline gift is looked up by its method and reference
 * (a cheque number, a bank reference) before it is booked, so that the same
 * cheque or the same bank-statement line is never booked twice; and
 * reconciliation runs are kept, so the admin's Today page can show the ones
 * that found something wrong.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index ledger_entries_offline_reference on ledger_entries (method, lower(btrim(source_ref))) where kind = 'offline_gift'`.execute(db);
  // Given-at order for the ledger page and the donor list (filters by date across campaigns).
  await sql`create index ledger_entries_given_at on ledger_entries (given_at)`.execute(db);

  await db.schema
    .createTable('reconciliation_runs')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('period_from', 'date', (c) => c.notNull())
    .addColumn('period_to', 'date', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull().check(sql`trigger in ('page', 'api', 'schedule', 'repair')`))
    .addColumn('actor_id', 'uuid', (c) => c.references('people.id'))
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('clean', 'differences', 'failed')`))
    .addColumn('differences', 'integer', (c) => c.notNull().defaultTo(0).check(sql`differences >= 0`))
    .addColumn('summary', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('reconciliation_runs_started').on('reconciliation_runs').column('started_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reconciliation_runs').execute();
  await sql`drop index ledger_entries_given_at`.execute(db);
  await sql`drop index ledger_entries_offline_reference`.execute(db);
}
