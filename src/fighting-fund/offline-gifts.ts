/** Gifts received outside Stripe (cheque, transfer, cash), recorded by the treasurer. */
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { OfflineMethod } from '../db/schema.js';
import { thanksFor } from './acknowledgements.js';
import { findCampaignBySlug, getCurrentCampaign } from './campaigns.service.js';
import { invalidateFundCache } from './fund-cache.js';
import { campaignNotFound, fundError } from './fund.errors.js';
import * as ledger from './ledger.repository.js';
import { toLedgerEntryView, withoutDonor, type LedgerEntryView } from './ledger.views.js';

export interface OfflineGift {
  campaign?: string | undefined;
  amount: number;
  method: OfflineMethod;
  reference: string;
  givenAt: Date;
  name?: string | undefined;
  town?: string | undefined;
  acknowledge?: boolean | undefined;
  /** The treasurer says this is a second gift with a method and reference booked before (a cheque book reused, say). */
  secondGift?: boolean | undefined;
}

/** How far back a gift may be dated: the years a society keeps its accounting records. */
export const OLDEST_GIFT_YEARS = 6;

/**
 * Whether a gift's date lies further back than any treasurer could mean (1901, year 0):
 * booking it would invent a monthly campaign for that month.
 */
export function isTooOldForAGift(givenAt: Date, now: Date): boolean {
  const oldest = new Date(now);
  oldest.setUTCFullYear(oldest.getUTCFullYear() - OLDEST_GIFT_YEARS);
  return givenAt.getTime() < oldest.getTime();
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
  if (isTooOldForAGift(gift.givenAt, now)) {
    throw fundError('given_at_too_old', 422, `givenAt is more than ${OLDEST_GIFT_YEARS} years ago: no campaign of the fund can take it.`, { givenAt: gift.givenAt.toISOString() });
  }
  const acknowledged = gift.acknowledge ?? false;
  const thanks = thanksFor(acknowledged, gift.name, gift.town);
  if (acknowledged && !thanks) {
    throw fundError('acknowledgement_needs_name', 422, 'A donor who wants to be acknowledged needs a name.');
  }
  const view = await deps.db.transaction().execute(async (trx) => {
    const campaign = gift.campaign ? await findCampaignBySlug(trx, gift.campaign) : await getCurrentCampaign({ ...deps, db: trx }, gift.givenAt);
    if (!campaign) throw campaignNotFound(gift.campaign!);
    // The same cheque or bank line booked twice is the commonest slip: refuse it unless the treasurer says it is a second gift.
    await ledger.lockOfflineGiftBookings(trx);
    if (!gift.secondGift) {
      const [booked] = await ledger.findOfflineGiftsByReference(trx, [{ method: gift.method, reference: gift.reference }]);
      if (booked) {
        throw fundError(
          'duplicate_reference',
          409,
          `A ${gift.method.replace('_', ' ')} with reference "${booked.reference}" was booked before (entry ${booked.id}). If this is a second gift, mark it as one.`,
          { entryId: booked.id, method: booked.method, reference: booked.reference, amount: booked.amount, givenAt: booked.given_at.toISOString() },
        );
      }
    }
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
      after: gift.secondGift ? { ...withoutDonor(view), secondGift: true } : withoutDonor(view),
    });
    return view;
  });
  invalidateFundCache();
  return view;
}
