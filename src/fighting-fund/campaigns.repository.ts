/** All SQL about campaigns. */
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { Campaign, CampaignKind } from '../db/schema.js';

export interface NewCampaign {
  slug: string;
  title: string;
  kind: CampaignKind;
  target: number;
  currency: string;
  startsAt: Date;
  deadline: Date;
  createdAt: Date;
}

/** Inserts the campaign unless its slug exists (race-safe); returns it only when this call created it. */
export async function insertCampaignIfSlugFree(db: Executor, c: NewCampaign): Promise<Campaign | undefined> {
  return db
    .insertInto('campaigns')
    .values({
      slug: c.slug,
      title: c.title,
      kind: c.kind,
      target: c.target,
      currency: c.currency,
      starts_at: c.startsAt,
      deadline: c.deadline,
      created_at: c.createdAt,
    })
    .onConflict((oc) => oc.column('slug').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function findCampaignBySlug(db: Executor, slug: string): Promise<Campaign | undefined> {
  return db.selectFrom('campaigns').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export function findCampaignById(db: Executor, id: string): Promise<Campaign | undefined> {
  return db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockCampaignBySlug(db: Executor, slug: string): Promise<Campaign | undefined> {
  return db.selectFrom('campaigns').selectAll().where('slug', '=', slug).forUpdate().executeTakeFirst();
}

/** The special campaign running at `at` (special campaigns never overlap: a constraint says so). */
export function findSpecialCampaignAt(db: Executor, at: Date): Promise<Campaign | undefined> {
  return db
    .selectFrom('campaigns')
    .selectAll()
    .where('kind', '=', 'special')
    .where('starts_at', '<=', at)
    .where('deadline', '>=', at)
    .orderBy('starts_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The first start of a special campaign after `at`: the current campaign changes then. */
export async function findNextSpecialStart(db: Executor, at: Date): Promise<Date | undefined> {
  const row = await db
    .selectFrom('campaigns')
    .select('starts_at')
    .where('kind', '=', 'special')
    .where('starts_at', '>', at)
    .orderBy('starts_at', 'asc')
    .limit(1)
    .executeTakeFirst();
  return row?.starts_at;
}

/** Special campaigns other than `exceptId` whose period shares an instant with [startsAt, deadline]. */
export function findOverlappingSpecials(db: Executor, startsAt: Date, deadline: Date, exceptId?: string): Promise<Campaign[]> {
  let q = db
    .selectFrom('campaigns')
    .selectAll()
    .where('kind', '=', 'special')
    .where('starts_at', '<=', deadline)
    .where('deadline', '>=', startsAt);
  if (exceptId) q = q.where('id', '<>', exceptId);
  return q.orderBy('starts_at').execute();
}

export interface CampaignChanges {
  title?: string;
  target?: number;
  startsAt?: Date;
  deadline?: Date;
}

export function updateCampaign(db: Executor, id: string, changes: CampaignChanges): Promise<Campaign> {
  return db
    .updateTable('campaigns')
    .set({
      ...(changes.title === undefined ? {} : { title: changes.title }),
      ...(changes.target === undefined ? {} : { target: changes.target }),
      ...(changes.startsAt === undefined ? {} : { starts_at: changes.startsAt }),
      ...(changes.deadline === undefined ? {} : { deadline: changes.deadline }),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface OpenCampaignTotals {
  slug: string;
  target: number;
  raised: number;
  donation_count: number;
}

/** Every campaign running at `at` (the month's and any special one) with its ledger totals, as the fund's figures count them. */
export async function listOpenCampaignTotals(db: Executor, at: Date): Promise<OpenCampaignTotals[]> {
  const { rows } = await sql<OpenCampaignTotals>`
    select c.slug, c.target,
           coalesce(sum(e.amount), 0)::int8 as raised,
           (count(e.id) filter (where e.kind in ('online_donation', 'supporter_payment', 'offline_gift'))
            - count(e.id) filter (where e.kind = 'correction'))::int8 as donation_count
      from campaigns c
      left join ledger_entries e on e.campaign_id = c.id
     where c.starts_at <= ${at} and c.deadline >= ${at}
     group by c.id
     order by c.slug`.execute(db);
  return rows;
}
