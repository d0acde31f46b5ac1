/** All SQL about the fighting-fund ledger. The table refuses UPDATE and DELETE, so there are none here. */
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { Campaign, LedgerEntry, NewLedgerEntry } from '../db/schema.js';

/** The name and town a donor asked to be thanked with (ledger_acknowledgements, beside the entry). */
export interface Thanks {
  name: string;
  town: string | null;
}

/** Kinds that bring money in: each such entry is one donation in `donationCount`. */
export const MONEY_IN_KINDS = ['online_donation', 'supporter_payment', 'offline_gift'] as const;

/** Inserts an entry carrying a stripe_key unless that key is booked already; returns it only when inserted. */
export function insertStripeEntry(db: Executor, entry: NewLedgerEntry & { stripe_key: string }): Promise<LedgerEntry | undefined> {
  return db
    .insertInto('ledger_entries')
    .values(entry)
    .onConflict((oc) => oc.column('stripe_key').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export type NewStripeMoneyInEntry = Omit<NewLedgerEntry, 'campaign_id' | 'given_at' | 'recorded_at'> & {
  stripe_key: string;
  given_at: Date;
  recorded_at: Date;
};

/**
 * The common case of a Stripe payment in one statement: books it to `campaignId`
 * when that campaign runs at `given_at` in the entry's currency and the stripe_key
 * is not booked yet, and returns the entry with its campaign. undefined when any of
 * that does not hold (the caller then looks closer).
 */
export async function insertStripeEntryIntoCampaign(
  db: Executor,
  campaignId: string,
  entry: NewStripeMoneyInEntry,
  thanks: Thanks | null,
): Promise<{ entry: LedgerEntry; campaign: Campaign } | undefined> {
  const { rows } = await sql<LedgerEntry & CampaignColumns>`
    with c as (
      select * from campaigns
       where id = ${campaignId}::uuid and starts_at <= ${entry.given_at}::timestamptz and deadline >= ${entry.given_at}::timestamptz
         and currency = ${entry.currency}::char(3)
    ), e as (
      insert into ledger_entries (campaign_id, kind, amount, currency, given_at, recorded_at, source_ref, stripe_key, donation_id, acknowledged)
      select c.id, ${entry.kind}::text, ${entry.amount}::int8, ${entry.currency}::char(3), ${entry.given_at}::timestamptz, ${entry.recorded_at}::timestamptz,
             ${entry.source_ref}::text, ${entry.stripe_key}::text, ${entry.donation_id ?? null}::uuid, ${entry.acknowledged ?? false}::boolean
        from c
      on conflict (stripe_key) do nothing
      returning *
    ), a as (
      insert into ledger_acknowledgements (entry_id, name, town)
      select e.id, ${thanks?.name ?? null}::text, ${thanks?.town ?? null}::text from e where ${thanks?.name ?? null}::text is not null
    )
    select e.*, c.slug as c_slug, c.title as c_title, c.kind as c_kind, c.target as c_target, c.currency as c_currency,
           c.starts_at as c_starts_at, c.deadline as c_deadline, c.created_at as c_created_at
      from e cross join c`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const { c_slug, c_title, c_kind, c_target, c_currency, c_starts_at, c_deadline, c_created_at, ...inserted } = row;
  return {
    entry: inserted,
    campaign: {
      id: inserted.campaign_id,
      slug: c_slug,
      title: c_title,
      kind: c_kind,
      target: c_target,
      currency: c_currency,
      starts_at: c_starts_at,
      deadline: c_deadline,
      created_at: c_created_at,
    },
  };
}

interface CampaignColumns {
  c_slug: string;
  c_title: string;
  c_kind: Campaign['kind'];
  c_target: number;
  c_currency: string;
  c_starts_at: Date;
  c_deadline: Date;
  c_created_at: Date;
}

export function findEntryByStripeKey(db: Executor, stripeKey: string): Promise<LedgerEntry | undefined> {
  return db.selectFrom('ledger_entries').selectAll().where('stripe_key', '=', stripeKey).executeTakeFirst();
}

export function findEntryById(db: Executor, id: number): Promise<LedgerEntry | undefined> {
  return db.selectFrom('ledger_entries').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertEntry(db: Executor, entry: NewLedgerEntry): Promise<LedgerEntry> {
  return db.insertInto('ledger_entries').values(entry).returningAll().executeTakeFirstOrThrow();
}

/** Inserts a reversing entry unless the entry is reversed already (unique reverses_entry_id). */
export function insertReversal(db: Executor, entry: NewLedgerEntry & { reverses_entry_id: number }): Promise<LedgerEntry | undefined> {
  return db
    .insertInto('ledger_entries')
    .values(entry)
    .onConflict((oc) => oc.column('reverses_entry_id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Puts the donor's name and town beside their (acknowledged) entry. */
export async function insertThanks(db: Executor, entryId: number, thanks: Thanks): Promise<void> {
  await db.insertInto('ledger_acknowledgements').values({ entry_id: entryId, name: thanks.name, town: thanks.town }).execute();
}

export async function findThanks(db: Executor, entryId: number): Promise<Thanks | undefined> {
  return db.selectFrom('ledger_acknowledgements').select(['name', 'town']).where('entry_id', '=', entryId).executeTakeFirst();
}

/** Erasure: the names and towns beside these donations' entries go; the entries (amounts) stay. */
export async function deleteThanksOfDonations(db: Executor, donationIds: readonly string[]): Promise<number> {
  if (donationIds.length === 0) return 0;
  const result = await db
    .deleteFrom('ledger_acknowledgements')
    .where('entry_id', 'in', (eb) => eb.selectFrom('ledger_entries').select('id').where('donation_id', 'in', donationIds))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Erasure: the names and towns beside the entries booked under these Stripe keys go; the entries stay. */
export async function deleteThanksOfStripeKeys(db: Executor, stripeKeys: readonly string[]): Promise<number> {
  if (stripeKeys.length === 0) return 0;
  const result = await db
    .deleteFrom('ledger_acknowledgements')
    .where('entry_id', 'in', (eb) => eb.selectFrom('ledger_entries').select('id').where('stripe_key', 'in', stripeKeys))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface CampaignTotals {
  raised: number;
  donationCount: number;
}

/**
 * The campaign's running totals (campaign_totals, kept by a trigger in each booking's
 * transaction): a handful of rows whatever the size of the ledger.
 */
export async function campaignTotals(db: Executor, campaignId: string): Promise<CampaignTotals> {
  const row = await db
    .selectFrom('campaign_totals')
    .select([sql<number>`coalesce(sum(raised), 0)::int8`.as('raised'), sql<number>`coalesce(sum(donation_count), 0)::int8`.as('donation_count')])
    .where('campaign_id', '=', campaignId)
    .executeTakeFirst();
  return { raised: row?.raised ?? 0, donationCount: row?.donation_count ?? 0 };
}

export interface AcknowledgementRow {
  name: string;
  town: string | null;
  amount: number;
  given_at: Date;
}

/**
 * Acknowledged gifts of a campaign, newest first, net of what was refunded or
 * disputed; gifts reversed by a correction or taken back in full are left out.
 */
export async function listAcknowledgements(db: Executor, campaignId: string, limit: number): Promise<AcknowledgementRow[]> {
  const { rows } = await sql<AcknowledgementRow>`
    select a.name, a.town, net.amount, e.given_at
      from ledger_entries e
      join ledger_acknowledgements a on a.entry_id = e.id
      cross join lateral (
        select e.amount + coalesce((select sum(b.amount) from ledger_entries b where b.original_entry_id = e.id), 0)::int8 as amount
      ) net
     where e.campaign_id = ${campaignId}
       and e.kind in ('online_donation', 'supporter_payment', 'offline_gift')
       and not exists (select 1 from ledger_entries c where c.reverses_entry_id = e.id)
       and net.amount > 0
     order by e.given_at desc, e.id desc
     limit ${limit}`.execute(db);
  return rows;
}

export type LedgerExportRow = LedgerEntry & { campaign_slug: string; donor_name: string | null; donor_town: string | null };

/** One page of the ledger in id order (keyset paging), for the CSV export. */
export function listEntriesAfter(db: Executor, query: { campaignId?: string; afterId: number; limit: number }): Promise<LedgerExportRow[]> {
  let q = db
    .selectFrom('ledger_entries as e')
    .innerJoin('campaigns as c', 'c.id', 'e.campaign_id')
    .leftJoin('ledger_acknowledgements as a', 'a.entry_id', 'e.id')
    .selectAll('e')
    .select(['c.slug as campaign_slug', 'a.name as donor_name', 'a.town as donor_town'])
    .where('e.id', '>', query.afterId)
    .orderBy('e.id')
    .limit(query.limit);
  if (query.campaignId) q = q.where('e.campaign_id', '=', query.campaignId);
  return q.execute();
}

/**
 * Serialises bookings of offline gifts (one at a time across instances, for the
 * rest of the transaction), so "was this method and reference booked before?"
 * and the insert that follows cannot interleave with another booking's. Offline
 * gifts are few; a single lock keeps two imports of one statement from deadlocking.
 */
export async function lockOfflineGiftBookings(db: Executor): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('reader-coop:offline-gift-references'))`.execute(db);
}

/**
 * Offline gifts already booked with one of these method + reference pairs and not
 * reversed (references compared trimmed and case-blind, as banks change case).
 */
export async function findOfflineGiftsByReference(
  db: Executor,
  refs: { method: string; reference: string }[],
): Promise<{ id: number; method: string; reference: string; amount: number; given_at: Date }[]> {
  if (refs.length === 0) return [];
  const methods = refs.map((r) => r.method);
  const keys = refs.map((r) => r.reference.trim().toLowerCase());
  const { rows } = await sql<{ id: number; method: string; reference: string; amount: number; given_at: Date }>`
    select e.id, e.method, e.source_ref as reference, e.amount, e.given_at
      from ledger_entries e
      join unnest(${methods}::text[], ${keys}::text[]) as k(method, ref)
        on e.method = k.method and lower(btrim(e.source_ref)) = k.ref
     where e.kind = 'offline_gift'
       and not exists (select 1 from ledger_entries c where c.reverses_entry_id = e.id)
     order by e.id`.execute(db);
  return rows;
}
