/**
 * Campaigns: the monthly ones appear by themselves (on demand and from the
 * hourly task), special ones are created by admins.
 *
 * Which campaign is current at an instant: a special campaign running then
 * (special campaigns never overlap one another), otherwise the monthly campaign
 * of that calendar month in the society's time zone. A special campaign thus
 * takes over the fund while it runs, and the month resumes when it ends.
 */
import { AppError } from '../lib/errors.js';
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { Campaign } from '../db/schema.js';
import { RESERVED_SLUG, monthlyPeriodAfter, monthlyPeriodAt, type MonthlyPeriod } from './campaign-periods.js';
import * as campaigns from './campaigns.repository.js';
import { invalidateFundCache } from './fund-cache.js';
import { campaignNotFound, fundError } from './fund.errors.js';

export type FundDeps = Pick<AppDeps, 'config' | 'clock'>;
export type FundDbDeps = FundDeps & { db: Executor };

/** The campaign current at `at` (default now); creates the month's campaign if it is missing. */
export async function getCurrentCampaign(deps: FundDbDeps, at: Date = deps.clock.now()): Promise<Campaign> {
  const special = await campaigns.findSpecialCampaignAt(deps.db, at);
  if (special) return special;
  return ensureMonthlyCampaign(deps, monthlyPeriodAt(at, deps.config.society.timeZone));
}

export function findCampaignBySlug(db: Executor, slug: string): Promise<Campaign | undefined> {
  return campaigns.findCampaignBySlug(db, slug);
}

export function findCampaignById(db: Executor, id: string): Promise<Campaign | undefined> {
  return campaigns.findCampaignById(db, id);
}

/** When the answer of getCurrentCampaign(now) may change next because a special campaign starts. */
export function nextSpecialCampaignStart(db: Executor, after: Date): Promise<Date | undefined> {
  return campaigns.findNextSpecialStart(db, after);
}

/** Makes sure this month's and next month's campaigns exist (the scheduled task); returns the slugs it created. */
export async function ensureUpcomingMonthlyCampaigns(deps: FundDbDeps): Promise<string[]> {
  const now = deps.clock.now();
  const created: string[] = [];
  for (const months of [0, 1]) {
    const period = monthlyPeriodAfter(now, deps.config.society.timeZone, months);
    const inserted = await insertMonthly(deps, period);
    if (inserted) created.push(inserted.slug);
  }
  return created;
}

async function ensureMonthlyCampaign(deps: FundDbDeps, period: MonthlyPeriod): Promise<Campaign> {
  // Insert first: with ON CONFLICT two requests racing at the turn of the month both end up with the one row.
  const inserted = await insertMonthly(deps, period);
  if (inserted) return inserted;
  const existing = await campaigns.findCampaignBySlug(deps.db, period.slug);
  if (!existing) throw new Error(`monthly campaign ${period.slug} vanished`);
  return existing;
}

function insertMonthly(deps: FundDbDeps, period: MonthlyPeriod): Promise<Campaign | undefined> {
  return campaigns.insertCampaignIfSlugFree(deps.db, {
    slug: period.slug,
    title: period.title,
    kind: 'monthly',
    target: deps.config.fund.monthlyTarget,
    currency: deps.config.society.currency,
    startsAt: period.startsAt,
    deadline: period.deadline,
    createdAt: deps.clock.now(),
  });
}

// ---- admin ----------------------------------------------------------------------

/** A campaign as the admin API shows it. */
export interface CampaignView {
  slug: string;
  title: string;
  kind: Campaign['kind'];
  target: number;
  currency: string;
  startsAt: string;
  deadline: string;
}

export function toCampaignView(c: Campaign): CampaignView {
  return {
    slug: c.slug,
    title: c.title,
    kind: c.kind,
    target: c.target,
    currency: c.currency,
    startsAt: c.starts_at.toISOString(),
    deadline: c.deadline.toISOString(),
  };
}

export interface NewSpecialCampaign {
  slug: string;
  title: string;
  target: number;
  startsAt: Date;
  deadline: Date;
  currency?: string | undefined;
}

/**
 * Creates a campaign for any period other than a calendar month. While it runs
 * it is the current campaign; special campaigns may not overlap one another.
 */
export async function createSpecialCampaign(deps: AppDeps, actor: Actor, input: NewSpecialCampaign): Promise<CampaignView> {
  if (RESERVED_SLUG.test(input.slug)) {
    throw fundError('slug_reserved', 422, `Slugs shaped like YYYY-MM belong to the monthly campaigns; choose another slug.`, { slug: input.slug });
  }
  assertDeadlineAfterStart(input.startsAt, input.deadline);
  const currency = deps.config.society.currency;
  if (input.currency && input.currency.toUpperCase() !== currency) {
    throw fundError('currency_not_supported', 422, `The fund is kept in ${currency}.`, { currency: input.currency });
  }
  const view = await withOverlapGuard(() =>
    deps.db.transaction().execute(async (trx) => {
      await assertNoOverlap(trx, input.startsAt, input.deadline);
      const created = await campaigns.insertCampaignIfSlugFree(trx, {
        slug: input.slug,
        title: input.title,
        kind: 'special',
        target: input.target,
        currency,
        startsAt: input.startsAt,
        deadline: input.deadline,
        createdAt: deps.clock.now(),
      });
      if (!created) throw fundError('campaign_exists', 409, `A campaign "${input.slug}" exists already.`, { slug: input.slug });
      const view = toCampaignView(created);
      await recordAudit(trx, deps.clock, actor, { action: 'campaign.created', subjectType: 'campaign', subjectId: created.slug, after: view });
      return view;
    }),
  );
  invalidateFundCache();
  return view;
}

export interface CampaignPatch {
  title?: string | undefined;
  target?: number | undefined;
  startsAt?: Date | undefined;
  deadline?: Date | undefined;
  currency?: string | undefined;
}

/**
 * Changes a campaign's title, target or (for a special campaign) its period.
 * A monthly campaign's period is its calendar month, and no campaign changes
 * currency: its entries are already counted in it.
 */
export async function updateCampaign(deps: AppDeps, actor: Actor, slug: string, patch: CampaignPatch): Promise<CampaignView> {
  // A form posted with every field blank changes nothing: say so rather than run an empty UPDATE.
  if (Object.values(patch).every((value) => value === undefined)) {
    throw new AppError({ code: 'invalid_request', status: 400, message: 'Give at least one of the title, the target or the deadline to change.' });
  }
  const view = await withOverlapGuard(() =>
    deps.db.transaction().execute(async (trx) => {
      const before = await campaigns.lockCampaignBySlug(trx, slug);
      if (!before) throw campaignNotFound(slug);
      if (patch.currency !== undefined && patch.currency.toUpperCase() !== before.currency) {
        throw fundError('currency_cannot_change', 422, `Campaign "${slug}" is kept in ${before.currency}; its currency cannot change.`);
      }
      const startsAt = patch.startsAt ?? before.starts_at;
      const deadline = patch.deadline ?? before.deadline;
      const periodChanges = startsAt.getTime() !== before.starts_at.getTime() || deadline.getTime() !== before.deadline.getTime();
      if (periodChanges && before.kind === 'monthly') {
        throw fundError('monthly_period_fixed', 422, 'A monthly campaign runs for its calendar month; create a special campaign for another period.');
      }
      assertDeadlineAfterStart(startsAt, deadline);
      if (periodChanges) await assertNoOverlap(trx, startsAt, deadline, before.id);
      const after = await campaigns.updateCampaign(trx, before.id, {
        title: patch.title,
        target: patch.target,
        ...(periodChanges ? { startsAt, deadline } : {}),
      });
      const view = toCampaignView(after);
      await recordAudit(trx, deps.clock, actor, {
        action: 'campaign.updated',
        subjectType: 'campaign',
        subjectId: after.slug,
        before: toCampaignView(before),
        after: view,
      });
      return view;
    }),
  );
  invalidateFundCache();
  return view;
}

function assertDeadlineAfterStart(startsAt: Date, deadline: Date): void {
  if (deadline.getTime() <= startsAt.getTime()) {
    throw fundError('deadline_before_start', 422, 'The deadline must come after the start.', {
      startsAt: startsAt.toISOString(),
      deadline: deadline.toISOString(),
    });
  }
}

async function assertNoOverlap(db: Executor, startsAt: Date, deadline: Date, exceptId?: string): Promise<void> {
  const overlapping = await campaigns.findOverlappingSpecials(db, startsAt, deadline, exceptId);
  if (overlapping.length > 0) throw overlapError(overlapping.map((c) => c.slug));
}

function overlapError(slugs?: string[]) {
  return fundError('campaign_overlaps', 422, 'Special campaigns may not overlap: another one runs during that period.', slugs ? { campaigns: slugs } : undefined);
}

/** Two admins racing past the overlap check meet the exclusion constraint instead (23P01). */
async function withOverlapGuard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if ((err as { code?: string }).code === '23P01') throw overlapError();
    throw err;
  }
}
