/**
 * The treasurer's read side of the fund, for the /admin pages and the admin API:
 * the ledger filtered and paged, the gifts of today and this week, the campaigns
 * with their totals, and the donor list the paper prints.
 */
import { DateTime } from 'luxon';
import type { AppDeps } from '../deps.js';
import type { LedgerKind, OfflineMethod } from '../db/schema.js';
import { formatMoney } from '../lib/money.js';
import { findCampaignBySlug, getCurrentCampaign, toCampaignView, type CampaignView } from './campaigns.service.js';
import * as desk from './fund-desk.repository.js';
import { campaignNotFound } from './fund.errors.js';
import { toLedgerEntryView, type LedgerEntryView } from './ledger.views.js';

type DeskDeps = Pick<AppDeps, 'config' | 'clock' | 'db'>;

/** The first instant of calendar day `date` (YYYY-MM-DD) in the society's time zone. */
export function localDayStart(date: string, timeZone: string): Date {
  const day = DateTime.fromISO(date, { zone: timeZone });
  if (!day.isValid) throw new RangeError(`not a calendar day: ${date}`);
  return day.startOf('day').toJSDate();
}

/** The first instant of the day after `date`. */
export function localDayEnd(date: string, timeZone: string): Date {
  return DateTime.fromISO(date, { zone: timeZone }).startOf('day').plus({ days: 1 }).toJSDate();
}

export interface LedgerPageQuery {
  campaign?: string | undefined;
  kind?: LedgerKind | undefined;
  method?: OfflineMethod | undefined;
  from?: string | undefined;
  to?: string | undefined;
  page: number;
  pageSize: number;
}

export type LedgerRowView = LedgerEntryView & { reversedBy: number | null; reversible: boolean };

export async function ledgerPage(deps: DeskDeps, query: LedgerPageQuery): Promise<{ entries: LedgerRowView[]; total: number; page: number; pages: number }> {
  const tz = deps.config.society.timeZone;
  const campaign = query.campaign ? await findCampaignBySlug(deps.db, query.campaign) : undefined;
  if (query.campaign && !campaign) throw campaignNotFound(query.campaign);
  const { rows, total } = await desk.listLedgerPage(
    deps.db,
    {
      campaignId: campaign?.id,
      kind: query.kind,
      method: query.method,
      from: query.from ? localDayStart(query.from, tz) : undefined,
      to: query.to ? localDayEnd(query.to, tz) : undefined,
    },
    query.pageSize,
    (query.page - 1) * query.pageSize,
  );
  return {
    entries: rows.map((r) => ({
      ...toLedgerEntryView(r, r.campaign_slug, r.donor_name ? { name: r.donor_name, town: r.donor_town } : null),
      reversedBy: r.reversed_by,
      reversible: r.kind === 'offline_gift' && r.stripe_key === null && r.reversed_by === null,
    })),
    total,
    page: query.page,
    pages: Math.max(1, Math.ceil(total / query.pageSize)),
  };
}

export interface GiftFigures {
  today: { count: number; amount: number };
  thisWeek: { count: number; amount: number };
  currency: string;
}

/** Gifts given since local midnight and since Monday (the society's calendar). */
export async function giftFigures(deps: DeskDeps): Promise<GiftFigures> {
  const now = deps.clock.now();
  const local = DateTime.fromJSDate(now, { zone: deps.config.society.timeZone });
  const until = new Date(now.getTime() + 1);
  const [today, thisWeek] = await Promise.all([
    desk.giftsBetween(deps.db, local.startOf('day').toJSDate(), until),
    desk.giftsBetween(deps.db, local.startOf('week').toJSDate(), until),
  ]);
  return { today, thisWeek, currency: deps.config.society.currency };
}

export type CampaignDeskView = CampaignView & { raised: number; entries: number; current: boolean };

export async function campaignsWithTotals(deps: DeskDeps): Promise<CampaignDeskView[]> {
  const current = await getCurrentCampaign(deps);
  const rows = await desk.listCampaignsWithTotals(deps.db, 60);
  return rows.map((c) => ({ ...toCampaignView(c), raised: c.raised, entries: c.entries, current: c.id === current.id }));
}

// ---- the donor list --------------------------------------------------------------

export interface DonorList {
  from: string;
  to: string;
  currency: string;
  /** Every gift counted, named or not. */
  count: number;
  total: number;
  /** Donors who chose to be named, largest gift first. */
  named: { name: string; town: string | null; amount: number; givenAt: string }[];
  /** Gifts from donors who did not ask to be named: counted, never named. */
  unnamed: { count: number; total: number };
  /** The list as the paper prints it, grouped by amount: "£50 J Smith, Leeds; £10 each two readers". */
  groups: { amount: number; donors: { name: string; town: string | null }[]; unnamedCount: number }[];
  text: string;
}

const smallNumbers = ['no', 'a', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

function readers(count: number): string {
  return count === 1 ? 'a reader' : `${count <= 10 ? smallNumbers[count] : String(count)} readers`;
}

/**
 * The donor list for the local days `from`..`to` (inclusive), as the paper prints
 * it: largest amounts first; at each amount the named donors ("J Smith, Leeds")
 * then the others, counted ("a reader", "each three readers").
 */
export async function donorList(deps: DeskDeps, from: string, to: string): Promise<DonorList> {
  const tz = deps.config.society.timeZone;
  const currency = deps.config.society.currency;
  const rows = await desk.listDonorListRows(deps.db, localDayStart(from, tz), localDayEnd(to, tz));
  const groups = new Map<number, { amount: number; donors: { name: string; town: string | null }[]; unnamedCount: number }>();
  const named: DonorList['named'] = [];
  let unnamedCount = 0;
  let unnamedTotal = 0;
  for (const r of rows) {
    let g = groups.get(r.amount);
    if (!g) groups.set(r.amount, (g = { amount: r.amount, donors: [], unnamedCount: 0 }));
    if (r.acknowledged && r.name) {
      g.donors.push({ name: r.name, town: r.town });
      named.push({ name: r.name, town: r.town, amount: r.amount, givenAt: r.given_at.toISOString() });
    } else {
      g.unnamedCount += 1;
      unnamedCount += 1;
      unnamedTotal += r.amount;
    }
  }
  const ordered = [...groups.values()].sort((a, b) => b.amount - a.amount);
  const total = rows.reduce((sum, r) => sum + r.amount, 0);
  const money = (minor: number) => formatMoney(minor, currency).replace(/\.00$/, '');
  const parts: string[] = [];
  for (const g of ordered) {
    const names = g.donors.map((d) => (d.town ? `${d.name}, ${d.town}` : d.name));
    for (const n of names) parts.push(`${money(g.amount)} ${n}`);
    if (g.unnamedCount === 1) parts.push(`${money(g.amount)} a reader`);
    else if (g.unnamedCount > 1) parts.push(`${money(g.amount)} each ${readers(g.unnamedCount)}`);
  }
  const period = from === to ? longDay(from) : `${longDay(from)} to ${longDay(to)}`;
  const heading = `Fighting fund, ${period}: ${money(total)} from ${rows.length === 1 ? 'one gift' : `${rows.length} gifts`}.`;
  const text = rows.length === 0 ? `${heading}\n` : `${heading}\nThank you: ${parts.join('; ')}.\n`;
  return { from, to, currency, count: rows.length, total, named, unnamed: { count: unnamedCount, total: unnamedTotal }, groups: ordered, text };
}

function longDay(date: string): string {
  return DateTime.fromISO(date).setLocale('en-GB').toFormat('d LLLL yyyy');
}
