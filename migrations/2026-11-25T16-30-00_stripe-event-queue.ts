/**
 * The webhook inbox's work queue. POST /webhooks/stripe stores an event and its
 * queue row in one statement and answers; a processor on every instance claims
 * queue rows (FOR UPDATE SKIP LOCKED, oldest `created` first) and applies each
 * event in one transaction with its result row, deleting the queue row in that
 * same transaction. stripe_events itself stays append-only: what is waiting is
 * this small table, not a scan of every event ever received.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('stripe_event_queue')
    .addColumn('event_id', 'text', (c) => c.primaryKey().references('stripe_events.id'))
    // Stripe's `created`, copied so the oldest is claimed first straight from this table's index.
    .addColumn('created', 'timestamptz', (c) => c.notNull())
    .addColumn('queued_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('stripe_event_queue_order').on('stripe_event_queue').columns(['created', 'event_id']).execute();
  // Events stored before this queue existed were applied (or failed into the retry job) on receipt;
  // any left with neither a result nor a failure are queued so they are not forgotten.
  await sql`
    insert into stripe_event_queue (event_id, created)
    select e.id, e.created from stripe_events e
     where not exists (select 1 from stripe_event_results r where r.event_id = e.id)
       and not exists (select 1 from stripe_event_failures f where f.event_id = e.id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stripe_event_queue').execute();
}
