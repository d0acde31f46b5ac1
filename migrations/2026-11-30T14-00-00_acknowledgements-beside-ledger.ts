/**
 * A named gift's donor name and town move out of the append-only ledger into
 * `ledger_acknowledgements`, one row beside the entry it thanks. The ledger keeps
 * the amount and the `acknowledged` flag for ever; the name can be removed (the
 * donor's erasure, a treasurer's correction) without touching the accounts.
 *
 * The composite foreign key (entry_id, acknowledged) -> ledger_entries (id,
 * acknowledged), with `acknowledged` fixed to true here, keeps the old rule in the
 * database: a name stands only beside an entry whose donor asked to be thanked.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table ledger_entries add constraint ledger_entries_id_acknowledged unique (id, acknowledged)`.execute(db);
  await sql`
    create table ledger_acknowledgements (
      entry_id bigint primary key,
      acknowledged boolean not null default true check (acknowledged),
      name text not null check (length(name) between 1 and 200),
      town text check (length(town) between 1 and 200),
      foreign key (entry_id, acknowledged) references ledger_entries (id, acknowledged)
    )`.execute(db);
  await sql`
    insert into ledger_acknowledgements (entry_id, name, town)
    select id, left(donor_name, 200), nullif(left(donor_town, 200), '') from ledger_entries
     where acknowledged and donor_name is not null and donor_name <> ''`.execute(db);
  // DDL, not an UPDATE: the append-only trigger stays as it is.
  await sql`alter table ledger_entries drop constraint ledger_name_only_if_acknowledged`.execute(db);
  await sql`alter table ledger_entries drop column donor_name, drop column donor_town`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table ledger_entries add column donor_name text, add column donor_town text`.execute(db);
  // Putting the names back is the one UPDATE the ledger ever takes, inside this migration only.
  await sql`alter table ledger_entries disable trigger ledger_entries_append_only`.execute(db);
  await sql`
    update ledger_entries e set donor_name = a.name, donor_town = a.town
      from ledger_acknowledgements a where a.entry_id = e.id`.execute(db);
  await sql`alter table ledger_entries enable trigger ledger_entries_append_only`.execute(db);
  await sql`alter table ledger_entries add constraint ledger_name_only_if_acknowledged
            check (acknowledged or (donor_name is null and donor_town is null))`.execute(db);
  await sql`drop table ledger_acknowledgements`.execute(db);
  await sql`alter table ledger_entries drop constraint ledger_entries_id_acknowledged`.execute(db);
}
