/** SQL of the treasurer's read side of the fund: the ledger page, the day's gifts, campaigns with totals, the donor list. */
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { Campaign, LedgerEntry, LedgerKind, OfflineMethod } from '../db/schema.js';
import { MONEY_IN_KINDS } from './ledger.repository.js';

export interface LedgerFilter {
  campaignId?: string | undefined;
  kind?: LedgerKind | undefined;
  method?: OfflineMethod | undefined;
  /** given_at at or after / before these instants */
  from?: Date | undefined;
  to?: Date | undefined;
}

export type LedgerPageRow = LedgerEntry & { campaign_slug: string; reversed_by: number | null; donor_name: string | null; donor_town: string | null };

/** One page of the ledger, newest given first, with whether each entry has been reversed. */
export async function listLedgerPage(db: Executor, filter: LedgerFilter, limit: number, offset: number): Promise<{ rows: LedgerPageRow[]; total: number }> {
  let q = db
    .selectFrom('ledger_entries as e')
    .innerJoin('campaigns as c', 'c.id', 'e.campaign_id')
    .leftJoin('ledger_acknowledgements as a', 'a.entry_id', 'e.id');
  if (filter.campaignId) q = q.where('e.campaign_id', '=', filter.campaignId);
  if (filter.kind) q = q.where('e.kind', '=', filter.kind);
  if (filter.method) q = q.where('e.method', '=', filter.method);
  if (filter.from) q = q.where('e.given_at', '>=', filter.from);
  if (filter.to) q = q.where('e.given_at', '<', filter.to);
  const [rows, count] = await Promise.all([
    q
      .selectAll('e')
      .select(['c.slug as campaign_slug', 'a.name as donor_name', 'a.town as donor_town'])
      .select((eb) =>
        eb.selectFrom('ledger_entries as r').select('r.id').whereRef('r.reverses_entry_id', '=', 'e.id').limit(1).as('reversed_by'),
      )
      .orderBy('e.given_at', 'desc')
      .orderBy('e.id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute(),
    q.select(sql<number>`count(*)::int8`.as('total')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: count.total };
}

/** Gifts in (money-in kinds, less reversed ones) given in [from, to). */
export async function giftsBetween(db: Executor, from: Date, to: Date): Promise<{ count: number; amount: number }> {
  const { rows } = await sql<{ count: number; amount: number }>`
    select count(*)::int8 as count, coalesce(sum(e.amount), 0)::int8 as amount
      from ledger_entries e
     where e.given_at >= ${from} and e.given_at < ${to}
       and e.kind in (${sql.join(MONEY_IN_KINDS)})
       and not exists (select 1 from ledger_entries c where c.reverses_entry_id = e.id)`.execute(db);
  return rows[0] ?? { count: 0, amount: 0 };
}

export type CampaignWithTotal = Campaign & { raised: number; entries: number };

export async function listCampaignsWithTotals(db: Executor, limit: number): Promise<CampaignWithTotal[]> {
  const { rows } = await sql<CampaignWithTotal>`
    select c.*, coalesce(t.raised, 0)::int8 as raised, coalesce(t.entries, 0)::int8 as entries
      from campaigns c
      left join lateral (select sum(amount) as raised, count(*) as entries from ledger_entries e where e.campaign_id = c.id) t on true
     order by c.starts_at desc
     limit ${limit}`.execute(db);
  return rows;
}

export interface DonorListRow {
  id: number;
  acknowledged: boolean;
  name: string | null;
  town: string | null;
  amount: number;
  given_at: Date;
  kind: LedgerKind;
}

/**
 * Gifts given in [from, to), net of what was refunded or disputed; gifts reversed
 * or taken back in full are left out. Names only where the donor chose to be named.
 */
export async function listDonorListRows(db: Executor, from: Date, to: Date): Promise<DonorListRow[]> {
  const { rows } = await sql<DonorListRow>`
    select e.id, (a.entry_id is not null) as acknowledged, a.name, a.town, net.amount, e.given_at, e.kind
      from ledger_entries e
      left join ledger_acknowledgements a on a.entry_id = e.id
      cross join lateral (
        select e.amount + coalesce((select sum(b.amount) from ledger_entries b where b.original_entry_id = e.id), 0)::int8 as amount
      ) net
     where e.given_at >= ${from} and e.given_at < ${to}
       and e.kind in (${sql.join(MONEY_IN_KINDS)})
       and not exists (select 1 from ledger_entries c where c.reverses_entry_id = e.id)
       and net.amount > 0
     order by net.amount desc, e.given_at, e.id`.execute(db);
  return rows;
}
