/**
 * Webhook events are applied by graphile-worker jobs (payments/apply-stripe-events.ts):
 * POST /webhooks/stripe stores an event and adds its job in one statement, so the
 * hand-built queue table goes. Events still queued, and events waiting in the old
 * per-event retry job, move into jobs of the new task.
 *
 * worker_heartbeats: each instance's job worker announces itself every few seconds;
 * the others unlock the jobs of one that went silent (lib/job-worker.ts).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    select graphile_worker.add_job('apply-stripe-events', json_agg(event_id order by created, event_id), max_attempts => 12)
      from stripe_event_queue having count(*) > 0`.execute(db);
  await sql`
    with old as (
      select j.key, j.payload->>'eventId' as event_id
        from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
       where t.identifier = 'process-stripe-event' and j.locked_at is null and j.payload->>'eventId' is not null
    ), removed as (
      select graphile_worker.remove_job(key) from old where key is not null
    )
    select graphile_worker.add_job('apply-stripe-events', json_agg(event_id), max_attempts => 12)
      from old where (select count(*) from removed) >= 0 having count(*) > 0`.execute(db);
  await db.schema.dropTable('stripe_event_queue').execute();

  await db.schema
    .createTable('worker_heartbeats')
    // graphile-worker's id of a worker pool: what its locked jobs carry in locked_by.
    .addColumn('worker_id', 'text', (c) => c.primaryKey())
    // host:pid, for whoever reads the table.
    .addColumn('instance', 'text', (c) => c.notNull())
    .addColumn('beat_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('worker_heartbeats').execute();
  await db.schema
    .createTable('stripe_event_queue')
    .addColumn('event_id', 'text', (c) => c.primaryKey().references('stripe_events.id'))
    .addColumn('created', 'timestamptz', (c) => c.notNull())
    .addColumn('queued_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('stripe_event_queue_order').on('stripe_event_queue').columns(['created', 'event_id']).execute();
  await sql`
    insert into stripe_event_queue (event_id, created)
    select e.id, e.created from stripe_events e
     where not exists (select 1 from stripe_event_results r where r.event_id = e.id)`.execute(db);
}
