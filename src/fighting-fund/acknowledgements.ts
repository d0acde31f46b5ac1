/**
 * The donors who chose to be thanked by name: the name and town kept beside the
 * ledger (never in it, so erasure can remove them), and the public list.
 */
import type { AppDeps } from '../deps.js';
import type { Executor } from '../db/database.js';
import { findCampaignBySlug, getCurrentCampaign } from './campaigns.service.js';
import { invalidateFundCache } from './fund-cache.js';
import { campaignNotFound } from './fund.errors.js';
import * as ledger from './ledger.repository.js';

/** The name and town to thank a donor with: only when they asked, and only with a name. */
export function thanksFor(acknowledged: boolean, name: string | null | undefined, town: string | null | undefined): ledger.Thanks | null {
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

/**
 * Erasure of a payer whose payments are booked by Stripe key alone (a supporter's
 * invoices): the names and towns they were thanked with go; the amounts stay.
 */
export async function forgetThanksForStripePayments(trx: Executor, stripeKeys: readonly string[]): Promise<number> {
  const removed = await ledger.deleteThanksOfStripeKeys(trx, stripeKeys);
  if (removed > 0) invalidateFundCache();
  return removed;
}

function cleanText(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

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
