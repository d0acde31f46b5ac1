/**
 * Running totals per campaign, so the fund's figures cost the same with a million
 * ledger entries as with ten. A statement-level trigger on ledger_entries adds each
 * INSERT's rows (however many: a bulk import is one upsert per campaign) in the
 * same transaction, so the totals commit with the entries or not at all. The
 * ledger is append-only, so inserts are the only change there is.
 *
 * Each campaign has up to 16 slots (by backend pid), summed on read: concurrent
 * bookings to one campaign then rarely wait on the same row until the other commits.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('campaign_totals')
    .addColumn('campaign_id', 'uuid', (c) => c.notNull().references('campaigns.id'))
    .addColumn('slot', 'int2', (c) => c.notNull().check(sql`slot between 0 and 15`))
    // Signed: refunds and disputes are negative entries.
    .addColumn('raised', 'int8', (c) => c.notNull().defaultTo(0))
    .addColumn('donation_count', 'int8', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('campaign_totals_pkey', ['campaign_id', 'slot'])
    .execute();

  // donation_count as the fund reports it: gifts in, less offline gifts reversed by a correction.
  await sql`
    create function ledger_entries_add_to_totals() returns trigger language plpgsql as $$
    begin
      insert into campaign_totals as t (campaign_id, slot, raised, donation_count)
      select campaign_id, (pg_backend_pid() % 16)::int2, sum(amount),
             count(*) filter (where kind in ('online_donation', 'supporter_payment', 'offline_gift'))
               - count(*) filter (where kind = 'correction')
        from new_entries
       group by campaign_id
       order by campaign_id
      on conflict (campaign_id, slot) do update
        set raised = t.raised + excluded.raised, donation_count = t.donation_count + excluded.donation_count;
      return null;
    end
    $$`.execute(db);
  await sql`
    create trigger ledger_entries_totals after insert on ledger_entries
    referencing new table as new_entries
    for each statement execute function ledger_entries_add_to_totals()`.execute(db);

  await sql`
    insert into campaign_totals (campaign_id, slot, raised, donation_count)
    select campaign_id, 0, sum(amount),
           count(*) filter (where kind in ('online_donation', 'supporter_payment', 'offline_gift')) - count(*) filter (where kind = 'correction')
      from ledger_entries group by campaign_id`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger ledger_entries_totals on ledger_entries`.execute(db);
  await sql`drop function ledger_entries_add_to_totals()`.execute(db);
  await db.schema.dropTable('campaign_totals').execute();
}
