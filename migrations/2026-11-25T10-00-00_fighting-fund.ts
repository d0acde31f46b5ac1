/**
 * Campaigns and the fighting-fund ledger. The ledger is append-only, enforced
 * here: UPDATE, DELETE and TRUNCATE are refused; mistakes are reversed by new entries.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists pgcrypto`.execute(db);

  // Shared by every append-only table of later migrations too.
  await sql`
    create function refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only: % refused', tg_table_name, tg_op
        using errcode = 'raise_exception', hint = 'record a reversing entry instead';
    end
    $$`.execute(db);

  await db.schema
    .createTable('campaigns')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slug', 'text', (c) => c.notNull().unique().check(sql`slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'`))
    .addColumn('title', 'text', (c) => c.notNull().check(sql`length(title) between 1 and 200`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('monthly', 'special')`))
    .addColumn('target', 'bigint', (c) => c.notNull().check(sql`target > 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('deadline', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('campaigns_deadline_after_start', sql`deadline > starts_at`)
    .execute();
  await db.schema.createIndex('campaigns_period').on('campaigns').columns(['starts_at', 'deadline']).execute();

  await db.schema
    .createTable('donations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // The campaign the reader chose (or the current one when they started); the ledger
    // entry may land elsewhere when the money arrives after that campaign's deadline.
    .addColumn('campaign_id', 'uuid', (c) => c.notNull().references('campaigns.id'))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('town', 'text')
    .addColumn('acknowledge', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'processing', 'paid', 'failed', 'expired')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('paid_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('ledger_entries')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('campaign_id', 'uuid', (c) => c.notNull().references('campaigns.id'))
    .addColumn('kind', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`kind in ('online_donation', 'supporter_payment', 'offline_gift', 'refund', 'dispute', 'dispute_won', 'correction')`,
        ),
    )
    .addColumn('method', 'text', (c) =>
      c.check(sql`method in ('cheque', 'bank_transfer', 'cash', 'standing_order', 'collection', 'other')`),
    )
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('given_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Where the money came from: a Stripe id, a cheque number, a bank reference.
    .addColumn('source_ref', 'text', (c) => c.notNull().check(sql`length(source_ref) between 1 and 200`))
    // 'payment:pi_..', 'refund:re_..', 'dispute:dp_..', 'dispute_won:dp_..', 'invoice:in_..':
    // unique, so a Stripe payment, refund or dispute is booked once however often it is delivered.
    .addColumn('stripe_key', 'text', (c) => c.unique())
    .addColumn('donation_id', 'uuid', (c) => c.references('donations.id'))
    .addColumn('acknowledged', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('donor_name', 'text')
    .addColumn('donor_town', 'text')
    .addColumn('reverses_entry_id', 'bigint', (c) => c.unique().references('ledger_entries.id'))
    .addColumn('reason', 'text')
    .addColumn('recorded_by', 'uuid')
    .addCheckConstraint('ledger_amount_not_zero', sql`amount <> 0`)
    .addCheckConstraint(
      'ledger_amount_sign_matches_kind',
      sql`case
            when kind in ('online_donation', 'supporter_payment', 'offline_gift', 'dispute_won') then amount > 0
            when kind in ('refund', 'dispute') then amount < 0
            else true
          end`,
    )
    .addCheckConstraint('ledger_offline_has_method', sql`(kind = 'offline_gift') = (method is not null)`)
    .addCheckConstraint('ledger_name_only_if_acknowledged', sql`acknowledged or (donor_name is null and donor_town is null)`)
    .addCheckConstraint('ledger_correction_reverses', sql`kind <> 'correction' or (reverses_entry_id is not null and reason is not null)`)
    .execute();
  await db.schema.createIndex('ledger_entries_campaign').on('ledger_entries').columns(['campaign_id', 'given_at']).execute();
  await db.schema.createIndex('ledger_entries_donation').on('ledger_entries').column('donation_id').execute();

  await sql`
    create trigger ledger_entries_append_only
    before update or delete on ledger_entries
    for each row execute function refuse_change()`.execute(db);
  await sql`
    create trigger ledger_entries_no_truncate
    before truncate on ledger_entries
    for each statement execute function refuse_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ledger_entries').execute();
  await db.schema.dropTable('donations').execute();
  await db.schema.dropTable('campaigns').execute();
  await sql`drop function refuse_change()`.execute(db);
}
