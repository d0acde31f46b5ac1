/**
 * The fund's figures for a campaign (SPEC section 1), as served by
 * GET /api/fighting-fund, the widgets and the pages.
 *
 * The figures are computed from the ledger (one SUM over a covering index) and
 * kept in process, already serialised, for at most `ttlMs` (1 s): a busy
 * newspaper front page then costs the database one query a second, and a new
 * entry still shows within the 2 s the SPEC allows. Loads are single-flight
 * (one query at a time per campaign), booking an entry in this process drops
 * the cache at once (fund-cache.ts), and an entry is never served past the
 * next local midnight or deadline by the injected clock, since the countdown
 * (and which campaign is current) can change then.
 */
import { createHash } from 'node:crypto';
import type { AppDeps } from '../deps.js';
import type { Campaign } from '../db/schema.js';
import { nextLocalMidnight } from './campaign-periods.js';
import { findCampaignBySlug, getCurrentCampaign, nextSpecialCampaignStart } from './campaigns.service.js';
import { fundFigures } from './countdown.js';
import { fundCacheGeneration } from './fund-cache.js';
import { campaignNotFound } from './fund.errors.js';
import { campaignTotals } from './ledger.repository.js';

/** The body of GET /api/fighting-fund (SPEC section 3). */
export interface FundSummary {
  campaign: { slug: string; title: string; startsAt: string; deadline: string };
  currency: string;
  target: number;
  raised: number;
  remaining: number;
  daysRemaining: number;
  percent: number;
  /** Gifts in (online donations, supporter payments, offline gifts), less those reversed by a correction; refunds do not lower it. */
  donationCount: number;
}

export interface CachedFundSummary {
  summary: FundSummary;
  /** The JSON body, serialised once per load. */
  body: Buffer;
  etag: string;
  /** Renderings derived from this summary (widget HTML, SVG), made at most once per load. */
  memo: Map<string, string>;
}

interface Entry extends CachedFundSummary {
  generation: number;
  loadedAt: number;
  /** Valid for clock instants in [validFrom, validUntil). */
  validFrom: number;
  validUntil: number;
}

export interface FundSummariesOptions {
  ttlMs?: number;
  /** Bounds memory when many different slugs are asked for. */
  maxEntries?: number;
}

export class FundSummaries {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, { generation: number; promise: Promise<Entry> }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly deps: AppDeps,
    options: FundSummariesOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 1000;
    this.maxEntries = options.maxEntries ?? 256;
  }

  /** The summary of the campaign `slug`, or of the current campaign when slug is null; 404 for an unknown slug. */
  get(slug: string | null): Promise<CachedFundSummary> {
    const key = slug ?? '';
    const generation = fundCacheGeneration();
    const entry = this.entries.get(key);
    if (entry && this.isFresh(entry, generation)) return Promise.resolve(entry);

    const flight = this.inflight.get(key);
    if (flight && flight.generation === generation) return flight.promise;
    const promise = this.load(slug, generation).then(
      (loaded) => {
        if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
        if (loaded.generation === fundCacheGeneration()) this.store(key, loaded);
        return loaded;
      },
      (err: unknown) => {
        if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
        throw err;
      },
    );
    this.inflight.set(key, { generation, promise });
    return promise;
  }

  private isFresh(entry: Entry, generation: number): boolean {
    if (entry.generation !== generation) return false;
    if (performance.now() - entry.loadedAt >= this.ttlMs) return false;
    const now = this.deps.clock.now().getTime();
    return now >= entry.validFrom && now < entry.validUntil;
  }

  private store(key: string, entry: Entry): void {
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private async load(slug: string | null, generation: number): Promise<Entry> {
    const { deps } = this;
    const now = deps.clock.now();
    const timeZone = deps.config.society.timeZone;
    let campaign: Campaign | undefined;
    let validUntil = nextLocalMidnight(now, timeZone).getTime();
    if (slug === null) {
      campaign = await getCurrentCampaign(deps, now);
      const nextSpecial = await nextSpecialCampaignStart(deps.db, now);
      if (nextSpecial) validUntil = Math.min(validUntil, nextSpecial.getTime());
    } else {
      campaign = await findCampaignBySlug(deps.db, slug);
      if (!campaign) throw campaignNotFound(slug);
    }
    if (now.getTime() <= campaign.deadline.getTime()) validUntil = Math.min(validUntil, campaign.deadline.getTime() + 1);
    const totals = await campaignTotals(deps.db, campaign.id);
    const summary = summarise(campaign, totals, now, timeZone);
    const body = Buffer.from(JSON.stringify(summary));
    return {
      summary,
      body,
      etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
      memo: new Map(),
      generation,
      loadedAt: performance.now(),
      validFrom: now.getTime(),
      validUntil,
    };
  }
}

/** Puts a campaign and its ledger totals into the SPEC's shape. */
export function summarise(campaign: Campaign, totals: { raised: number; donationCount: number }, now: Date, timeZone: string): FundSummary {
  const figures = fundFigures({ target: campaign.target, raised: totals.raised, deadline: campaign.deadline, now, timeZone });
  return {
    campaign: {
      slug: campaign.slug,
      title: campaign.title,
      startsAt: campaign.starts_at.toISOString(),
      deadline: campaign.deadline.toISOString(),
    },
    currency: campaign.currency,
    target: figures.target,
    raised: figures.raised,
    remaining: figures.remaining,
    daysRemaining: figures.daysRemaining,
    percent: figures.percent,
    donationCount: totals.donationCount,
  };
}

const perApp = new WeakMap<object, FundSummaries>();

/** The summaries cache of this app (one per database handle, so test apps never share figures). */
export function fundSummariesFor(deps: AppDeps): FundSummaries {
  let summaries = perApp.get(deps.db);
  if (!summaries) {
    summaries = new FundSummaries(deps);
    perApp.set(deps.db, summaries);
  }
  return summaries;
}
