/**
 * Supporters: one row per Stripe subscription we started (SPEC 1 "Supporters"),
 * mirroring its state. `state_at` is the Stripe `created` time of the event whose
 * state the row holds: an older event arriving late never overwrites a newer state.
 *
 * checkout_payments: the further PaymentIntents of a checkout (each paid invoice of a
 * subscription), so refunds and disputes of a subscription payment find our record
 * through ids we stored, as they do for one-off payments.
 *
 * signed_link_uses: one-click links from supporter emails act once (a replay is refused).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('supporters')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('person_id', 'uuid', (c) => c.notNull().references('people.id'))
    // Personal data, kept here (never in an append-only table) so erasure can remove it.
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('acknowledge', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('interval', 'text', (c) => c.notNull().check(sql`interval in ('month', 'year')`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('incomplete')
        .check(sql`status in ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled')`),
    )
    .addColumn('stripe_subscription_id', 'text', (c) => c.unique())
    .addColumn('stripe_customer_id', 'text')
    .addColumn('stripe_item_id', 'text')
    .addColumn('stripe_product_id', 'text')
    .addColumn('current_period_end', 'timestamptz')
    .addColumn('cancel_at_period_end', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('paused', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('state_at', 'timestamptz')
    // A change asked of Stripe and not yet confirmed by its webhook: {"amount"?, "interval"?, "pause"?, "cancel"?, "requestedAt"}.
    .addColumn('pending_change', 'jsonb')
    // Changes asked of Stripe so far: part of each change's idempotency key (a retry reuses it, a new change does not).
    .addColumn('change_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('supporters_person').on('supporters').column('person_id').execute();
  await db.schema.createIndex('supporters_status').on('supporters').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('checkout_payments')
    .addColumn('payment_intent_id', 'text', (c) => c.primaryKey())
    .addColumn('checkout_id', 'uuid', (c) => c.notNull().references('checkout_sessions.id'))
    // The invoice it paid: at most one PaymentIntent booked per invoice.
    .addColumn('invoice_id', 'text', (c) => c.notNull().unique())
    .addColumn('charge_id', 'text')
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('paid_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('checkout_payments_checkout').on('checkout_payments').column('checkout_id').execute();

  await db.schema
    .createTable('signed_link_uses')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('subject_id', 'uuid', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('signed_link_uses').execute();
  await db.schema.dropTable('checkout_payments').execute();
  await db.schema.dropTable('supporters').execute();
}
