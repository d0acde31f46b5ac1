/**
 * The fund as something other sites embed: a small self-contained HTML page for
 * an iframe (inline CSS only, the Donate link breaks out with target=_top) and
 * the same figures as an SVG image. Both are rendered once per cached summary.
 */
import type { AppDeps } from '../deps.js';
import { pageEngine } from '../lib/pages.js';
import { progressWidth } from './fund-pages.js';
import { fundSummariesFor } from './fund-summary.service.js';

const SVG_BAR_WIDTH = 448;

/** The widget page for a campaign (default: the current one). */
export async function renderWidgetHtml(deps: AppDeps, slug: string | undefined): Promise<string> {
  const cached = await fundSummariesFor(deps).get(slug ?? null);
  const chosenCampaign = slug !== undefined;
  const key = `html:${chosenCampaign}`;
  const done = cached.memo.get(key);
  if (done) return done;
  const fund = cached.summary;
  const donateUrl = `${deps.config.publicUrl}/donate${chosenCampaign ? `?campaign=${encodeURIComponent(fund.campaign.slug)}` : ''}`;
  const html = (await engine(deps).renderFile('widgets/fighting-fund', {
    fund,
    bar: progressWidth(fund),
    donateUrl,
    sandbox: deps.config.stripe.sandbox,
  })) as string;
  cached.memo.set(key, html);
  return html;
}

/** The widget as an SVG image for a campaign (default: the current one). */
export async function renderWidgetSvg(deps: AppDeps, slug: string | undefined): Promise<string> {
  const cached = await fundSummariesFor(deps).get(slug ?? null);
  const done = cached.memo.get('svg');
  if (done) return done;
  const fund = cached.summary;
  const svg = (await engine(deps).renderFile('widgets/fighting-fund-svg', {
    fund,
    barWidth: Math.round((progressWidth(fund) * SVG_BAR_WIDTH) / 100),
    sandbox: deps.config.stripe.sandbox,
  })) as string;
  cached.memo.set('svg', svg);
  return svg;
}

function engine(deps: AppDeps) {
  return pageEngine(deps.config.env !== 'development');
}
