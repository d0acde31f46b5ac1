/**
 * The fund as something other sites embed: a small self-contained HTML page for
 * an iframe (inline CSS only, the Donate link breaks out with target=_top) and
 * the same figures as an SVG image. Both are rendered once per cached summary.
 */
import { createHash } from 'node:crypto';
import type { AppDeps } from '../deps.js';
import { formatMoney } from '../lib/money.js';
import { pageEngine } from '../lib/pages.js';
import { progressWidth } from './fund-pages.js';
import { fundSummariesFor } from './fund-summary.service.js';

const SVG_BAR_WIDTH = 448;

/**
 * The widget's one script, inline so the widget stays one self-contained page: it tells the
 * page that embeds it how tall it is, so the iframe fits it exactly at any width (see /widget
 * for the lines that listen). Allowed by its hash in the widget's own Content-Security-Policy.
 */
const WIDGET_SCRIPT = `(function () {
  if (window.parent === window) return;
  var last = 0;
  function post() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: 'reader-coop:widget-height', height: height }, '*');
  }
  window.addEventListener('load', post);
  window.addEventListener('resize', post);
  if ('ResizeObserver' in window) new ResizeObserver(post).observe(document.documentElement);
  post();
})();`;

/** The HTML widget's Content-Security-Policy: inline styles, its own script by hash, framable anywhere, nothing else. */
export const WIDGET_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  `script-src 'sha256-${createHash('sha256').update(WIDGET_SCRIPT).digest('base64')}'`,
  'frame-ancestors *',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
/** Each figure's column in the SVG is 160 wide; a figure may use 148 of it. */
const SVG_COLUMN = 148;
/** A generous width of one character at font-size 22, bold: digits, £ and commas are narrower. */
const SVG_CHAR_WIDTH = 22 * 0.62;

/**
 * A figure of the SVG, and whether it must be squeezed into its column: SVG text does not wrap,
 * so a long figure (£12,345,678) is drawn with textLength, never over its neighbour.
 */
function svgFigure(text: string): { text: string; fit: boolean } {
  return { text, fit: text.length * SVG_CHAR_WIDTH > SVG_COLUMN };
}

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
    script: WIDGET_SCRIPT,
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
    figures: {
      column: SVG_COLUMN,
      raised: svgFigure(formatMoney(fund.raised, fund.currency, { wholeUnits: true })),
      needed: svgFigure(formatMoney(fund.remaining, fund.currency, { wholeUnits: true, round: 'up' })),
      days: svgFigure(fund.daysRemaining.toLocaleString('en-GB')),
    },
    sandbox: deps.config.stripe.sandbox,
  })) as string;
  cached.memo.set('svg', svg);
  return svg;
}

function engine(deps: AppDeps) {
  return pageEngine(deps.config.env !== 'development');
}

/**
 * What a newspaper pastes into its pages. The HTML widget posts its height to the
 * page around it (the inline WIDGET_SCRIPT); the few lines here listen, so the
 * iframe fits it at any width, a phone's included.
 */
export function widgetEmbedCodes(baseUrl: string): { htmlCode: string; svgCode: string; baseUrl: string } {
  const origin = new URL(baseUrl).origin;
  const htmlCode = [
    `<iframe id="reader-coop-fund" src="${baseUrl}/widget/fighting-fund" title="Our fighting fund" loading="lazy" style="display:block;width:100%;height:120px;border:0"></iframe>`,
    '<script>',
    "  // Fits the iframe to the widget's height, which the widget posts whenever it changes.",
    "  addEventListener('message', function (e) {",
    `    if (e.origin === '${origin}' && e.data && e.data.type === 'reader-coop:widget-height')`,
    "      document.getElementById('reader-coop-fund').style.height = e.data.height + 'px';",
    '  });',
    '</script>',
  ].join('\n');
  const svgCode = `<a href="${baseUrl}/donate"><img src="${baseUrl}/widget/fighting-fund.svg" alt="Our fighting fund: how much we have raised and still need. Donate today." width="480" height="96" style="max-width:100%;height:auto"></a>`;
  return { htmlCode, svgCode, baseUrl };
}
