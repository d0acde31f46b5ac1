/**
 * A reader gives to the fighting fund: the donation is recorded as pending and
 * the reader is sent to Stripe Checkout. Nothing reaches the ledger here; the
 * payment is booked only when Stripe confirms it (donation-payments.ts).
 */
import type { AppDeps } from '../deps.js';
import type { Campaign } from '../db/schema.js';
import { findCampaignBySlug, getCurrentCampaign } from '../fighting-fund/campaigns.service.js';
import { AppError } from '../lib/errors.js';
import { formatMoneyShort, majorUnitsText, parseMajorUnits } from '../lib/money.js';
import { findOrCreatePersonByEmail, normalizeEmail } from '../members/people.service.js';
import { createCheckout } from '../payments/checkout.service.js';
import { findDonation, insertDonation } from './donations.repository.js';
import { donationRequest, type DonationForm, type DonationRequest } from './donations.schemas.js';

export type DonationErrorCode =
  | 'amount_below_minimum'
  | 'amount_above_maximum'
  | 'campaign_not_found'
  | 'campaign_closed'
  | 'campaign_not_started'
  | 'acknowledgement_needs_name';

const donationError = (code: DonationErrorCode, message: string, field: string, details: Record<string, unknown> = {}) =>
  new AppError<DonationErrorCode>({ code, status: 422, message, details: { field, ...details } });

/** POST /api/donations: records the pending donation and opens its Checkout Session. */
export async function startDonation(deps: AppDeps, input: DonationRequest): Promise<{ id: string; checkoutUrl: string }> {
  const now = deps.clock.now();
  checkAmount(deps, input.amount);
  const campaign = await campaignFor(deps, input.campaign, now);
  if (input.acknowledge && !input.name) {
    throw donationError('acknowledgement_needs_name', 'To be thanked by name, please tell us your name.', 'name');
  }

  const donation = await deps.db.transaction().execute(async (trx) => {
    const email = normalizeEmail(input.email);
    const person = await findOrCreatePersonByEmail(trx, email, input.name ?? null);
    return insertDonation(trx, {
      campaignId: campaign.id,
      amount: input.amount,
      currency: campaign.currency,
      email,
      name: input.name ?? null,
      town: input.town ?? null,
      acknowledge: input.acknowledge,
      personId: person.id,
      createdAt: now,
    });
  });

  const { url } = await createCheckout(deps, {
    purpose: 'donation',
    recordId: donation.id,
    mode: 'payment',
    amount: donation.amount,
    currency: donation.currency,
    lineItems: [{ name: `Donation to the fighting fund: ${campaign.title}`, quantity: 1, unitAmount: donation.amount }],
    customerEmail: donation.email,
    submitType: 'donate',
    // Cancelling on the payment page comes back to this form, filled in.
    cancelPath: `/donate/resume/${donation.id}`,
  });
  deps.logger.info({ donationId: donation.id, campaign: campaign.slug, amount: donation.amount }, 'donation started');
  return { id: donation.id, checkoutUrl: url };
}

/**
 * The donate form's values for a gift whose payment was cancelled (Checkout's cancel URL names
 * the donation's unguessable id). Nothing for an unknown id, or a gift already paid.
 */
export async function cancelledDonationForm(deps: AppDeps, id: string): Promise<DonationForm | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const donation = await findDonation(deps.db, id);
  if (!donation || donation.status === 'paid') return undefined;
  return {
    amount: majorUnitsText(donation.amount),
    email: donation.email,
    name: donation.name ?? undefined,
    town: donation.town ?? undefined,
    acknowledge: donation.acknowledge ? 'true' : undefined,
  };
}

export type DonationFormResult =
  | { ok: true; checkoutUrl: string }
  | { ok: false; status: 422; errors: Record<string, string>; values: DonationForm; acknowledge: boolean };

/**
 * POST /donate: the same as the API, from the page's form (amount in pounds).
 * Problems come back per field for the page to show beside its inputs.
 */
export async function submitDonationForm(deps: AppDeps, form: DonationForm): Promise<DonationFormResult> {
  const errors: Record<string, string> = {};
  const acknowledge = ['on', 'true', 'yes', '1'].includes((form.acknowledge ?? '').toLowerCase());
  // Without JavaScript a chosen suggested amount arrives on its own, with an empty amount box.
  if (form.amount.trim() === '' && form.suggested && /^\d{1,6}$/.test(form.suggested)) form = { ...form, amount: form.suggested };
  const amount = parseMajorUnits(form.amount);
  // Every problem at once (the amount's limits too), so the reader corrects the form in one go.
  const amountError = amount === null || amount <= 0 ? 'Please give an amount in pounds, such as 10 or 12.50.' : amountProblem(deps, amount)?.message;
  if (amountError) errors.amount = amountError;
  const parsed = donationRequest.safeParse({
    amount: amount ?? 1,
    email: form.email.trim(),
    name: form.name,
    town: form.town,
    acknowledge,
    campaign: form.campaign?.trim() || undefined,
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? 'form');
      if (field === 'amount') continue;
      errors[field] ??= field === 'email' ? 'Please give an email address we can send your receipt to.' : issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, status: 422, errors, values: form, acknowledge };
  try {
    const { checkoutUrl } = await startDonation(deps, parsed.data).catch((err: unknown) => {
      // A page rendered before its campaign's deadline and sent after it: the gift goes to the
      // current campaign, as money arriving after a deadline does anyway.
      if (err instanceof AppError && err.code === 'campaign_closed') return startDonation(deps, { ...parsed.data, campaign: undefined });
      throw err;
    });
    return { ok: true, checkoutUrl };
  } catch (err) {
    if (err instanceof AppError && err.status === 422) {
      const field = (err.details as { field?: string } | undefined)?.field ?? 'form';
      return { ok: false, status: 422, errors: { [field]: err.message }, values: form, acknowledge };
    }
    throw err;
  }
}

function checkAmount(deps: AppDeps, amount: number): void {
  const problem = amountProblem(deps, amount);
  if (problem) throw problem;
}

/** Why the society cannot take this amount online, if it cannot. */
function amountProblem(deps: AppDeps, amount: number): AppError<DonationErrorCode> | undefined {
  const { min, max } = deps.config.donations;
  const currency = deps.config.society.currency;
  if (amount < min) {
    return donationError('amount_below_minimum', `Please give at least ${formatMoneyShort(min, currency)}: that is the smallest gift we can take online.`, 'amount', { minimum: min });
  }
  if (amount > max) {
    return donationError(
      'amount_above_maximum',
      `Please give at most ${formatMoneyShort(max, currency)} online; to give more, write to us at ${deps.config.society.contactEmail}.`,
      'amount',
      { maximum: max },
    );
  }
  return undefined;
}

/** The campaign asked for (open now), or the current one. */
async function campaignFor(deps: AppDeps, slug: string | undefined, now: Date): Promise<Campaign> {
  if (!slug) return getCurrentCampaign({ ...deps, db: deps.db }, now);
  const campaign = await findCampaignBySlug(deps.db, slug);
  if (!campaign) throw donationError('campaign_not_found', `There is no campaign "${slug}".`, 'campaign', { campaign: slug });
  if (campaign.deadline.getTime() < now.getTime()) {
    throw donationError('campaign_closed', `The campaign "${campaign.title}" has ended. Please give to the current campaign instead.`, 'campaign', {
      campaign: slug,
    });
  }
  if (campaign.starts_at.getTime() > now.getTime()) {
    throw donationError('campaign_not_started', `The campaign "${campaign.title}" has not started yet.`, 'campaign', { campaign: slug });
  }
  return campaign;
}
