/**
 * Booking money from Stripe into the fighting-fund ledger: money in (donations,
 * supporter payments), money taken back (refunds, disputes) and given back
 * (disputes won). The ledger is append-only: the database refuses UPDATE and
 * DELETE.
 *
 * Stripe bookings are idempotent by `stripe_key` (a unique index, INSERT ... ON
 * CONFLICT DO NOTHING), so a payment reaches the ledger once however often and
 * in whatever order its events arrive, even from two instances at once.
 *
 * These run inside the Stripe event's transaction; the job applying events
 * (payments/apply-stripe-events.ts) drops the in-process fund cache after the
 * commit, never before (a reader in between would cache figures without them).
 */
import type { Transaction } from 'kysely';
import type { Executor } from '../db/database.js';
import type { Campaign, DB, LedgerEntry } from '../db/schema.js';
import { thanksFor } from './acknowledgements.js';
import { findCampaignById, getCurrentCampaign, type FundDeps } from './campaigns.service.js';
import * as ledger from './ledger.repository.js';

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
    if (booked) return { ...booked, created: true };
  }
  const already = await ledger.findEntryByStripeKey(trx, input.stripeKey);
  if (already) return { entry: already, created: false };

  const campaign = await campaignForGift(deps, trx, input.givenAt, input.requestedCampaignId ?? null);
  assertSameCurrency(currency, campaign.currency, input.stripeKey);
  const inserted = await ledger.insertStripeEntry(trx, { ...row, campaign_id: campaign.id });
  if (inserted) {
    if (thanks) await ledger.insertThanks(trx, inserted.id, thanks);
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
  if (inserted) return { entry: inserted, created: true };
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
