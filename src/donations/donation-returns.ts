/** The thank-you page's account of a gift: what was given, the campaign's new total, where the receipt went. */
import type { AppDeps } from '../deps.js';
import { findCampaignById } from '../fighting-fund/campaigns.service.js';
import { fundSummariesFor } from '../fighting-fund/fund-summary.service.js';
import { formatMoney } from '../lib/money.js';
import { humanReference } from '../lib/references.js';
import { maskEmail, type CheckoutReturnDescriber } from '../payments/checkout-returns.js';
import { findDonation } from './donations.repository.js';

export function donationReturn(deps: AppDeps): CheckoutReturnDescriber {
  return async (donationId) => {
    const donation = await findDonation(deps.db, donationId);
    if (!donation) return undefined;
    const campaign = await findCampaignById(deps.db, donation.campaign_id);
    const { summary } = await fundSummariesFor(deps).get(campaign?.slug ?? null);
    return {
      kind: 'donation',
      formPath: '/donate',
      amount: formatMoney(donation.amount, donation.currency.trim()),
      receiptTo: maskEmail(donation.email),
      reference: humanReference('GIFT', donation.id),
      thankedByName: donation.acknowledge,
      fund: summary,
    };
  };
}
