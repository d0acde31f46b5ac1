/**
 * Fighting fund, second step: money taken back (refund, dispute, dispute won)
 * points at the payment it concerns, so acknowledgements can show what a donor
 * really gave; a covering index lets the campaign total be summed from the
 * index alone; special campaigns may not overlap one another, so "the current
 * campaign" is never ambiguous.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('ledger_entries')
    .addColumn('original_entry_id', 'bigint', (c) => c.references('ledger_entries.id'))
    .execute();
  await sql`alter table ledger_entries add constraint ledger_money_back_has_original
            check ((kind in ('refund', 'dispute', 'dispute_won')) = (original_entry_id is not null))`.execute(db);
  await db.schema.createIndex('ledger_entries_original').on('ledger_entries').column('original_entry_id').execute();
  // The fund total: sum(amount) and a count by kind for one campaign, answered by an index-only scan.
  await sql`create index ledger_entries_campaign_totals on ledger_entries (campaign_id) include (amount, kind)`.execute(db);
  // Acknowledgements, newest first.
  await sql`create index ledger_entries_acknowledged on ledger_entries (campaign_id, given_at desc) where acknowledged`.execute(db);

  await sql`alter table campaigns add constraint campaigns_special_no_overlap
            exclude using gist (tstzrange(starts_at, deadline, '[]') with &&) where (kind = 'special')`.execute(db);
  // A monthly campaign's slug is its month; other campaigns may not take that shape.
  await sql`alter table campaigns add constraint campaigns_monthly_slug
            check ((kind = 'monthly') = (slug ~ '^[0-9]{4}-[0-9]{2}$'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table campaigns drop constraint campaigns_monthly_slug`.execute(db);
  await sql`alter table campaigns drop constraint campaigns_special_no_overlap`.execute(db);
  await sql`drop index ledger_entries_acknowledged`.execute(db);
  await sql`drop index ledger_entries_campaign_totals`.execute(db);
  await db.schema.alterTable('ledger_entries').dropColumn('original_entry_id').execute();
}
