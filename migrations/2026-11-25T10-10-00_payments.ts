/**
 * Stripe bookkeeping: the Checkout Sessions we created (linking Stripe's ids to
 * our records) and the webhook inbox, where every event is stored once, keyed by
 * its id, before anything acts on it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('checkout_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // What the payment is for, and the id of that record (a donation, a share application, ...).
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('donation', 'share_application', 'supporter')`))
    .addColumn('record_id', 'uuid', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('payment', 'subscription')`))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('stripe_session_id', 'text', (c) => c.unique())
    .addColumn('url', 'text')
    .addColumn('payment_intent_id', 'text', (c) => c.unique())
    .addColumn('customer_id', 'text')
    .addColumn('subscription_id', 'text', (c) => c.unique())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('creating').check(sql`status in ('creating', 'open', 'complete', 'expired')`),
    )
    .addColumn('payment_status', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One live checkout per record: a retried request reuses it instead of charging twice.
  await db.schema.createIndex('checkout_sessions_record').on('checkout_sessions').columns(['purpose', 'record_id']).unique().execute();

  await db.schema
    .createTable('stripe_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    // Stripe's own `created`: the order events are applied in, not the order they arrive in.
    .addColumn('created', 'timestamptz', (c) => c.notNull())
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    .addColumn('api_version', 'text')
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create trigger stripe_events_append_only before update or delete on stripe_events
            for each row execute function refuse_change()`.execute(db);

  // Written in the same transaction as the event's effects: present if and only if they were applied.
  await db.schema
    .createTable('stripe_event_results')
    .addColumn('event_id', 'text', (c) => c.primaryKey().references('stripe_events.id'))
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('applied', 'ignored')`))
    .addColumn('note', 'text')
    .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create trigger stripe_event_results_append_only before update or delete on stripe_event_results
            for each row execute function refuse_change()`.execute(db);

  await db.schema
    .createTable('stripe_event_failures')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('event_id', 'text', (c) => c.notNull().references('stripe_events.id'))
    .addColumn('error', 'text', (c) => c.notNull())
    .addColumn('failed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('stripe_event_failures_event').on('stripe_event_failures').column('event_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stripe_event_failures').execute();
  await db.schema.dropTable('stripe_event_results').execute();
  await db.schema.dropTable('stripe_events').execute();
  await db.schema.dropTable('checkout_sessions').execute();
}
