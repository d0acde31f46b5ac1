/**
 * The fund's human pages: `/` (the banner, join, support, donate) and `/donate`
 * (the gift form). The form posts to POST /donate (the donations component),
 * which re-renders it through renderDonatePage with the reader's values and
 * the problems found.
 */
import type { Response } from 'express';
import { DateTime } from 'luxon';
import type { AppDeps } from '../deps.js';
import { formatMoneyShort } from '../lib/money.js';
import { formErrorSummary, renderPage } from '../lib/pages.js';
import { findCampaignBySlug } from './campaigns.service.js';
import { fundSummariesFor, type FundSummary } from './fund-summary.service.js';
import { listAcknowledgements } from './acknowledgements.js';

/** What the reader typed into the donate form, as text (checkbox as a boolean). */
export interface DonateFormValues {
  amount?: string | undefined;
  email?: string | undefined;
  name?: string | undefined;
  town?: string | undefined;
  acknowledge?: boolean | undefined;
  /** The campaign's slug (the form's hidden field). */
  campaign?: string | undefined;
  /** once, month or year: monthly and yearly giving go to the supporters' flow. */
  frequency?: string | undefined;
}

export type DonateFormField = 'amount' | 'email' | 'name' | 'town' | 'acknowledge' | 'campaign' | 'form';

export interface DonatePageOptions {
  values?: DonateFormValues;
  /** One message per field in trouble; 'form' for a problem with the whole gift. */
  errors?: Partial<Record<DonateFormField, string>>;
  /** 200 for a fresh form; 400 or 422 when re-rendered with errors. */
  status?: number;
  /** 'cancelled': back from the payment page without paying (the form filled in as it was). */
  notice?: 'cancelled';
}

/**
 * Suggested gifts, in whole pounds: radio buttons styled as buttons. The site's script copies
 * the choice into the amount box; without it, the form sends the choice and an empty box.
 */
const SUGGESTED_POUNDS = [5, 10, 25, 50, 100];

/** Renders /donate: the current (or chosen, if still running) campaign's banner and the gift form. */
export async function renderDonatePage(deps: AppDeps, res: Response, options: DonatePageOptions = {}): Promise<void> {
  const values = options.values ?? {};
  const errors = options.errors ?? {};
  const fund = await summaryForForm(deps, values.campaign);
  const campaign = fund.campaign.slug;
  const suggested = SUGGESTED_POUNDS.map((pounds) => ({
    pounds,
    label: formatMoneyShort(pounds * 100, fund.currency),
    selected: values.amount === String(pounds) || values.amount === `${pounds}.00`,
  }));
  const errorList = formErrorSummary(errors, { campaign: 'amount' });
  res.setHeader('Cache-Control', 'no-store');
  await renderPage(
    deps,
    res,
    'donate',
    {
      title: 'Donate',
      fund,
      bar: progressWidth(fund),
      currency: fund.currency,
      limits: { min: deps.config.donations.min, max: deps.config.donations.max },
      suggested,
      values: { ...values, campaign },
      errors,
      errorList,
      notice: options.notice,
    },
    options.status ?? 200,
  );
}

/** Renders / : the fund banner, the ways to join, support and donate, and the latest acknowledgements. */
export async function renderHomePage(deps: AppDeps, res: Response): Promise<void> {
  const { summary: fund } = await fundSummariesFor(deps).get(null);
  const acknowledgements = await listAcknowledgements(deps, { campaign: fund.campaign.slug, limit: 10 });
  await renderPage(deps, res, 'home', {
    title: fund.campaign.title,
    fund,
    bar: progressWidth(fund),
    donateLink: '/donate',
    deadlineText: DateTime.fromISO(fund.campaign.deadline, { zone: deps.config.society.timeZone }).setLocale('en-GB').toFormat("cccc d LLLL 'at' HH:mm"),
    acknowledgements,
  });
}

/** The chosen campaign if it is still running, else the current one: money counts where it is given. */
async function summaryForForm(deps: AppDeps, slug: string | undefined): Promise<FundSummary> {
  const summaries = fundSummariesFor(deps);
  if (slug && /^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) {
    const chosen = await findCampaignBySlug(deps.db, slug);
    const now = deps.clock.now().getTime();
    if (chosen && chosen.starts_at.getTime() <= now && now <= chosen.deadline.getTime()) {
      return (await summaries.get(chosen.slug)).summary;
    }
  }
  return (await summaries.get(null)).summary;
}

/** The progress bar's width in percent, 0 to 100 (the figure itself may pass 100). */
export function progressWidth(fund: Pick<FundSummary, 'percent'>): number {
  return Math.min(Math.max(fund.percent, 0), 100);
}
