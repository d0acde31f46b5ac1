/**
 * The fighting-fund ledger: money in from Stripe (donations, supporter
 * payments), money taken back (refunds, disputes) and given back (disputes won),
 * offline gifts recorded by the treasurer, and corrections. Append-only: the
 * database refuses UPDATE and DELETE, a mistake is undone by a reversing entry.
 *
 * Stripe bookings are idempotent by `stripe_key` (a unique index, INSERT ... ON
 * CONFLICT DO NOTHING), so a payment reaches the ledger once however often and
 * in whatever order its events arrive, even from two instances at once.
 */
import type { Transaction } from 'kysely';
import type { AppDeps } from '../deps.js';
import type { Executor } from '../db/database.js';
import type { Campaign, DB, LedgerEntry, OfflineMethod } from '../db/schema.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import { findCampaignById, findCampaignBySlug, getCurrentCampaign, type FundDeps } from './campaigns.service.js';
import { invalidateFundCache } from './fund-cache.js';
import { campaignNotFound, fundError } from './fund.errors.js';
import * as ledger from './ledger.repository.js';

export type { Campaign, LedgerEntry };
export type { FundDeps };
export { findCampaignBySlug, getCurrentCampaign, invalidateFundCache };

export interface StripeMoneyIn {
  /** 'payment:pi_123' (or 'invoice:in_..' for supporter payments): unique in the ledger. */
  stripeKey: string;
  /** The Stripe id shown to the treasurer (pi_.., ch_..). */
  sourceRef: string;
  kind: 'online_donation' | 'supporter_payment';
  amount: number;
  currency: string;
  /** When the money was given. */
  givenAt: Date;
  /** Used if givenAt falls inside it, else the campaign current at givenAt. */
  requestedCampaignId?: string | null;
  donationId?: string | null;
  acknowledged: boolean;
  donorName?: string | null;
  donorTown?: string | null;
}

/** A new booking carries the campaign it went to (for the receipt); an existing one is returned as it is. */
export type BookedMoneyIn = { entry: LedgerEntry; created: true; campaign: Campaign } | { entry: LedgerEntry; created: false };

/**
 * Books money given through Stripe to the campaign current when it was given.
 * Returns the existing entry (created: false) when the stripeKey is booked already.
 */
export async function bookStripeMoneyIn(deps: FundDeps, trx: Transaction<DB>, input: StripeMoneyIn): Promise<BookedMoneyIn> {
  assertPositiveAmount(input.amount);
  const currency = input.currency.toUpperCase();
  const thanks = thanksFor(input.acknowledged, input.donorName, input.donorTown);
  const row = {
    kind: input.kind,
    amount: input.amount,
    currency,
    given_at: input.givenAt,
    recorded_at: deps.clock.now(),
    source_ref: input.sourceRef,
    stripe_key: input.stripeKey,
    donation_id: input.donationId ?? null,
    acknowledged: input.acknowledged,
  };
  if (input.requestedCampaignId) {
    // Nearly always the gift lands in the campaign it was made for, and is new: one round trip.
    const booked = await ledger.insertStripeEntryIntoCampaign(trx, input.requestedCampaignId, row, thanks);
    if (booked) {
      invalidateFundCache();
      return { ...booked, created: true };
    }
  }
  const already = await ledger.findEntryByStripeKey(trx, input.stripeKey);
  if (already) return { entry: already, created: false };

  const campaign = await campaignForGift(deps, trx, input.givenAt, input.requestedCampaignId ?? null);
  assertSameCurrency(currency, campaign.currency, input.stripeKey);
  const inserted = await ledger.insertStripeEntry(trx, { ...row, campaign_id: campaign.id });
  if (inserted) {
    if (thanks) await ledger.insertThanks(trx, inserted.id, thanks);
    invalidateFundCache();
    return { entry: inserted, created: true, campaign };
  }
  return { entry: await bookedMeanwhile(trx, input.stripeKey), created: false };
}

export interface StripeMoneyBack {
  /** 'refund:re_..' | 'dispute:dp_..' | 'dispute_won:dp_..' */
  stripeKey: string;
  sourceRef: string;
  kind: 'refund' | 'dispute' | 'dispute_won';
  /** The 'payment:pi_..' entry it takes back from; booked against that entry's campaign. */
  originalStripeKey: string;
  /** Positive magnitude; the sign comes from the kind. */
  amount: number;
  currency: string;
  givenAt: Date;
}

/**
 * Books a refund or dispute (negative) or a won dispute (positive) against the
 * campaign of the payment it concerns. null when the original payment is not in
 * the ledger yet (the caller decides what to do).
 */
export async function bookStripeMoneyBack(
  deps: FundDeps,
  trx: Transaction<DB>,
  input: StripeMoneyBack,
): Promise<{ entry: LedgerEntry; created: boolean } | null> {
  assertPositiveAmount(input.amount);
  const already = await ledger.findEntryByStripeKey(trx, input.stripeKey);
  if (already) return { entry: already, created: false };

  const original = await ledger.findEntryByStripeKey(trx, input.originalStripeKey);
  if (!original) return null;
  if (original.kind !== 'online_donation' && original.kind !== 'supporter_payment') {
    throw new Error(`${input.stripeKey}: ${input.originalStripeKey} is a ${original.kind}, not a payment`);
  }
  const currency = input.currency.toUpperCase();
  assertSameCurrency(currency, original.currency, input.stripeKey);
  const inserted = await ledger.insertStripeEntry(trx, {
    campaign_id: original.campaign_id,
    kind: input.kind,
    amount: input.kind === 'dispute_won' ? input.amount : -input.amount,
    currency,
    given_at: input.givenAt,
    recorded_at: deps.clock.now(),
    source_ref: input.sourceRef,
    stripe_key: input.stripeKey,
    donation_id: original.donation_id,
    acknowledged: false,
    original_entry_id: original.id,
  });
  return settle(trx, input.stripeKey, inserted);
}

async function settle(trx: Executor, stripeKey: string, inserted: LedgerEntry | undefined) {
  if (inserted) {
    invalidateFundCache();
    return { entry: inserted, created: true };
  }
  return { entry: await bookedMeanwhile(trx, stripeKey), created: false };
}

/** Another transaction booked the same key between our look-up and our insert; ON CONFLICT waited for it. */
async function bookedMeanwhile(trx: Executor, stripeKey: string): Promise<LedgerEntry> {
  const existing = await ledger.findEntryByStripeKey(trx, stripeKey);
  if (!existing) throw new Error(`ledger entry ${stripeKey} conflicted but cannot be found`);
  return existing;
}

/** The requested campaign if `givenAt` falls inside it, else the campaign current at `givenAt`. */
async function campaignForGift(deps: FundDeps, db: Executor, givenAt: Date, requestedCampaignId: string | null): Promise<Campaign> {
  if (requestedCampaignId) {
    const requested = await findCampaignById(db, requestedCampaignId);
    if (requested && requested.starts_at.getTime() <= givenAt.getTime() && givenAt.getTime() <= requested.deadline.getTime()) {
      return requested;
    }
  }
  return getCurrentCampaign({ ...deps, db }, givenAt);
}

function assertPositiveAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`ledger amount must be a positive whole number of pence, got ${amount}`);
}

function assertSameCurrency(given: string, expected: string, what: string): void {
  // The fund adds amounts up: one currency per campaign, or the total means nothing.
  if (given !== expected) throw new Error(`${what}: currency ${given} does not match the campaign's ${expected}`);
}

/** The name and town to thank a donor with: only when they asked, and only with a name. */
function thanksFor(acknowledged: boolean, name: string | null | undefined, town: string | null | undefined): ledger.Thanks | null {
  const cleanName = acknowledged ? cleanText(name) : null;
  return cleanName ? { name: cleanName, town: cleanText(town) } : null;
}

/**
 * Erasure of the donor of these donations: the names and towns they were thanked
 * with go (from the public acknowledgements too); the ledger's amounts stay.
 */
export async function forgetThanksForDonations(trx: Executor, donationIds: readonly string[]): Promise<number> {
  const removed = await ledger.deleteThanksOfDonations(trx, donationIds);
  if (removed > 0) invalidateFundCache();
  return removed;
}

function cleanText(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

// ---- public: acknowledgements -------------------------------------------------

export interface Acknowledgement {
  name: string;
  town: string | null;
  amount: number;
  givenAt: string;
}

/** The donors of a campaign (default: the current one) who chose to be named, newest first. */
export async function listAcknowledgements(deps: AppDeps, query: { campaign?: string; limit: number }): Promise<Acknowledgement[]> {
  const campaign = query.campaign ? await findCampaignBySlug(deps.db, query.campaign) : await getCurrentCampaign(deps);
  if (!campaign) throw campaignNotFound(query.campaign!);
  const rows = await ledger.listAcknowledgements(deps.db, campaign.id, query.limit);
  return rows.map((r) => ({ name: r.name, town: r.town, amount: r.amount, givenAt: r.given_at.toISOString() }));
}

// ---- admin: offline gifts, reversals, export ------------------------------------

/** A ledger entry as the admin API shows it. */
export interface LedgerEntryView {
  id: number;
  campaign: string;
  kind: LedgerEntry['kind'];
  method: OfflineMethod | null;
  amount: number;
  currency: string;
  givenAt: string;
  recordedAt: string;
  reference: string;
  acknowledged: boolean;
  name: string | null;
  town: string | null;
  reversesEntryId: number | null;
  reason: string | null;
}

export function toLedgerEntryView(entry: LedgerEntry, campaignSlug: string, thanks?: ledger.Thanks | null): LedgerEntryView {
  return {
    id: entry.id,
    campaign: campaignSlug,
    kind: entry.kind,
    method: entry.method,
    amount: entry.amount,
    currency: entry.currency,
    givenAt: entry.given_at.toISOString(),
    recordedAt: entry.recorded_at.toISOString(),
    reference: entry.source_ref,
    acknowledged: entry.acknowledged,
    name: thanks?.name ?? null,
    town: thanks?.town ?? null,
    reversesEntryId: entry.reverses_entry_id,
    reason: entry.reason,
  };
}

/** An entry as the audit log keeps it: the donor's name and town live beside the ledger, not in the append-only log. */
function withoutDonor(view: LedgerEntryView): Omit<LedgerEntryView, 'name' | 'town'> {
  const { name: _name, town: _town, ...rest } = view;
  return rest;
}

export interface OfflineGift {
  campaign?: string | undefined;
  amount: number;
  method: OfflineMethod;
  reference: string;
  givenAt: Date;
  name?: string | undefined;
  town?: string | undefined;
  acknowledge?: boolean | undefined;
}

/**
 * Records a cheque, transfer, cash or other gift received outside Stripe. Without
 * a campaign it goes to the campaign current when it was given; with one, the
 * treasurer's choice stands (a cheque dated the 31st may be meant for the new month).
 */
export async function recordOfflineGift(deps: AppDeps, actor: Actor, gift: OfflineGift): Promise<LedgerEntryView> {
  const now = deps.clock.now();
  if (gift.givenAt.getTime() > now.getTime()) {
    throw fundError('given_at_in_future', 422, 'givenAt is in the future: record a gift once it has been given.', { givenAt: gift.givenAt.toISOString() });
  }
  const acknowledged = gift.acknowledge ?? false;
  const thanks = thanksFor(acknowledged, gift.name, gift.town);
  if (acknowledged && !thanks) {
    throw fundError('acknowledgement_needs_name', 422, 'A donor who wants to be acknowledged needs a name.');
  }
  const view = await deps.db.transaction().execute(async (trx) => {
    const campaign = gift.campaign ? await findCampaignBySlug(trx, gift.campaign) : await getCurrentCampaign({ ...deps, db: trx }, gift.givenAt);
    if (!campaign) throw campaignNotFound(gift.campaign!);
    const entry = await ledger.insertEntry(trx, {
      campaign_id: campaign.id,
      kind: 'offline_gift',
      method: gift.method,
      amount: gift.amount,
      currency: campaign.currency,
      given_at: gift.givenAt,
      recorded_at: now,
      source_ref: gift.reference,
      acknowledged,
      recorded_by: actor.id,
    });
    if (thanks) await ledger.insertThanks(trx, entry.id, thanks);
    const view = toLedgerEntryView(entry, campaign.slug, thanks);
    await recordAudit(trx, deps.clock, actor, {
      action: 'ledger.offline_gift_recorded',
      subjectType: 'ledger_entry',
      subjectId: String(entry.id),
      after: withoutDonor(view),
    });
    return view;
  });
  invalidateFundCache();
  return view;
}

/**
 * Undoes an offline gift with a correction of the opposite sign in the same
 * campaign. Stripe's own entries are corrected by Stripe (a refund), and a
 * correction is final: reversing it would only re-book the mistake.
 */
export async function reverseEntry(deps: AppDeps, actor: Actor, id: number, reason: string): Promise<LedgerEntryView> {
  const view = await deps.db.transaction().execute(async (trx) => {
    const entry = await ledger.findEntryById(trx, id);
    if (!entry) throw fundError('ledger_entry_not_found', 404, `There is no ledger entry ${id}.`);
    if (entry.kind === 'correction') {
      throw fundError('correction_not_reversible', 422, 'A correction cannot be reversed: record the gift again instead.');
    }
    if (entry.stripe_key !== null) {
      throw fundError('stripe_entry_not_reversible', 422, 'Entries booked from Stripe are corrected in Stripe (refund the payment there).');
    }
    const reversal = await ledger.insertReversal(trx, {
      campaign_id: entry.campaign_id,
      kind: 'correction',
      amount: -entry.amount,
      currency: entry.currency,
      given_at: entry.given_at,
      recorded_at: deps.clock.now(),
      source_ref: `reversal of entry ${entry.id}`,
      acknowledged: false,
      reverses_entry_id: entry.id,
      reason,
      recorded_by: actor.id,
    });
    if (!reversal) throw fundError('entry_already_reversed', 409, `Ledger entry ${id} has been reversed already.`);
    const campaign = await findCampaignById(trx, entry.campaign_id);
    const view = toLedgerEntryView(reversal, campaign!.slug);
    await recordAudit(trx, deps.clock, actor, {
      action: 'ledger.entry_reversed',
      subjectType: 'ledger_entry',
      subjectId: String(entry.id),
      before: withoutDonor(toLedgerEntryView(entry, campaign!.slug)),
      after: withoutDonor(view),
    });
    return view;
  });
  invalidateFundCache();
  return view;
}

export const LEDGER_CSV_COLUMNS = [
  'id',
  'campaign',
  'kind',
  'method',
  'amount_pence',
  'currency',
  'given_at',
  'recorded_at',
  'reference',
  'stripe_key',
  'donation_id',
  'acknowledged',
  'donor_name',
  'donor_town',
  'reverses_entry_id',
  'original_entry_id',
  'reason',
  'recorded_by',
] as const;

export type LedgerCsvRow = Record<(typeof LEDGER_CSV_COLUMNS)[number], string | number | boolean | null>;

/**
 * Opens the ledger export (one campaign, or the whole ledger): checks the
 * campaign, audits the export, and yields rows page by page so a large ledger
 * streams without being held in memory.
 */
export async function openLedgerExport(
  deps: AppDeps,
  actor: Actor,
  query: { campaign?: string | undefined },
): Promise<{ filename: string; rows: AsyncIterable<LedgerCsvRow> }> {
  const campaign = await deps.db.transaction().execute(async (trx) => {
    const found = query.campaign ? await findCampaignBySlug(trx, query.campaign) : undefined;
    if (query.campaign && !found) throw campaignNotFound(query.campaign);
    await recordAudit(trx, deps.clock, actor, {
      action: 'ledger.exported',
      subjectType: found ? 'campaign' : 'ledger',
      subjectId: found ? found.slug : 'all',
    });
    return found;
  });
  const pageSize = 1000;
  async function* rows(): AsyncGenerator<LedgerCsvRow> {
    let afterId = 0;
    for (;;) {
      const page = await ledger.listEntriesAfter(deps.db, { campaignId: campaign?.id, afterId, limit: pageSize });
      for (const e of page) {
        yield {
          id: e.id,
          campaign: e.campaign_slug,
          kind: e.kind,
          method: e.method,
          amount_pence: e.amount,
          currency: e.currency,
          given_at: e.given_at.toISOString(),
          recorded_at: e.recorded_at.toISOString(),
          reference: e.source_ref,
          stripe_key: e.stripe_key,
          donation_id: e.donation_id,
          acknowledged: e.acknowledged,
          donor_name: e.donor_name,
          donor_town: e.donor_town,
          reverses_entry_id: e.reverses_entry_id,
          original_entry_id: e.original_entry_id,
          reason: e.reason,
          recorded_by: e.recorded_by,
        };
      }
      if (page.length < pageSize) return;
      afterId = page[page.length - 1]!.id;
    }
  }
  return { filename: campaign ? `ledger-${campaign.slug}.csv` : 'ledger.csv', rows: rows() };
}
