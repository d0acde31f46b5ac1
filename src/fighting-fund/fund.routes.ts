/**
 * The fund's public surface: the figures as JSON, the acknowledgements, the
 * embeddable widget (HTML and SVG) and the pages / and /donate.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../lib/http.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { renderDonatePage, renderHomePage } from './fund-pages.js';
import { fundSummariesFor, type CachedFundSummary } from './fund-summary.service.js';
import { acknowledgement, acknowledgementsQuery, fundSummary, slugParams, widgetQuery } from './fund.schemas.js';
import { listAcknowledgements } from './acknowledgements.js';
import { renderWidgetHtml, renderWidgetSvg, WIDGET_CSP, widgetEmbedCodes } from './widget.js';
import { renderPage } from '../lib/pages.js';
import { readersBaseUrl } from '../lib/readers-host.js';

/** Shared caches may keep the figures for a second: with our own 1 s cache a new entry shows within 2 s. */
const PUBLIC_CACHE = 'public, max-age=1';

/**
 * The figures are public and meant for other sites: the newspaper's scripts may
 * read the JSON (CORS) and its pages may show the SVG as an image (CORP).
 */
function embeddable(res: Response): void {
  res.setHeader('Cache-Control', PUBLIC_CACHE);
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
}

/**
 * GET /api/fighting-fund and /api/fighting-fund/:slug: the figures every page of
 * the newspaper asks for. app.ts mounts this ahead of the request logger and
 * helmet, as it does the health checks: the answer is a prepared buffer from the
 * in-process cache, and a log line (and a dozen HTML security headers) per page
 * view of the newspaper would cost more than the answer. Errors still reach the
 * error handler and its log.
 */
export function fundFiguresRouter(deps: AppDeps): Router {
  const router = Router();
  const summaries = fundSummariesFor(deps);

  router.get('/api/fighting-fund', async (req, res) => {
    sendSummary(req, res, await summaries.get(null));
  });

  // Not a slug: left to fundRouter, behind the logger like every other route.
  router.get('/api/fighting-fund/acknowledgements', (_req, _res, next) => next('router'));

  router.get('/api/fighting-fund/:slug', async (req, res) => {
    const { slug } = parseInput(slugParams, req.params);
    sendSummary(req, res, await summaries.get(slug));
  });

  return router;
}

/** The rest of the fund's public surface: acknowledgements, the widget, and the pages / and /donate. */
export function fundRouter(deps: AppDeps): Router {
  const router = Router();

  router.get('/api/fighting-fund/acknowledgements', async (req, res) => {
    const query = parseInput(acknowledgementsQuery, req.query);
    embeddable(res);
    res.json(await listAcknowledgements(deps, query));
  });

  router.get('/widget/fighting-fund', async (req, res) => {
    const { campaign } = parseInput(widgetQuery, req.query);
    embeddable(res);
    const html = await renderWidgetHtml(deps, campaign);
    res.setHeader('Content-Security-Policy', WIDGET_CSP);
    res.type('html').send(html);
  });

  router.get('/widget/fighting-fund.svg', async (req, res) => {
    const { campaign } = parseInput(widgetQuery, req.query);
    embeddable(res);
    const svg = await renderWidgetSvg(deps, campaign);
    res.type('image/svg+xml').send(svg);
  });

  // The copy-paste embed codes for both widgets, with a preview.
  router.get('/widget', async (req, res) => {
    await renderPage(deps, res, 'widget', { title: 'Put the fighting fund on your site', ...widgetEmbedCodes(readersBaseUrl(deps.config, req)) });
  });

  router.get('/', async (_req, res) => {
    await renderHomePage(deps, res);
  });

  router.get('/donate', async (req, res) => {
    await renderDonatePage(deps, res, { values: donateValuesFromQuery(req.query) });
  });

  return router;
}

/** The prepared JSON body, straight onto the socket: no per-request serialising or hashing. */
function sendSummary(req: Request, res: Response, cached: CachedFundSummary): void {
  embeddable(res);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('ETag', cached.etag);
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', cached.body.length);
  res.end(cached.body);
}

/** /donate?amount=10&campaign=2026-11 (the suggested-amount links) pre-fill the form; anything odd is ignored. */
function donateValuesFromQuery(query: Request['query']): { amount?: string; campaign?: string } {
  const amount = typeof query.amount === 'string' && /^\d{1,7}(\.\d{1,2})?$/.test(query.amount) ? query.amount : undefined;
  const campaign = typeof query.campaign === 'string' && query.campaign.length <= 63 ? query.campaign : undefined;
  return { ...(amount ? { amount } : {}), ...(campaign ? { campaign } : {}) };
}

const html = { 'text/html': { schema: { type: 'string' as const } } };

export const fundOpenApi: ZodOpenApiPathsObject = {
  '/api/fighting-fund': {
    get: {
      tags: ['fighting fund'],
      summary: 'The current campaign: total, target and countdown',
      description: 'Cacheable for a second; a new ledger entry shows within 2 seconds.',
      responses: { '200': { description: 'The current campaign', content: { 'application/json': { schema: fundSummary } } } },
    },
  },
  '/api/fighting-fund/acknowledgements': {
    get: {
      tags: ['fighting fund'],
      summary: 'Donors who chose to be named, newest first',
      requestParams: { query: acknowledgementsQuery },
      responses: {
        '200': { description: 'Acknowledgements', content: { 'application/json': { schema: acknowledgement.array() } } },
        ...errorResponses(400, 404),
      },
    },
  },
  '/api/fighting-fund/{slug}': {
    get: {
      tags: ['fighting fund'],
      summary: 'Any campaign: total, target and countdown',
      requestParams: { path: slugParams },
      responses: {
        '200': { description: 'The campaign', content: { 'application/json': { schema: fundSummary } } },
        ...errorResponses(400, 404),
      },
    },
  },
  '/widget': {
    get: {
      tags: ['fighting fund', 'pages'],
      summary: 'The embed codes of the widget (HTML in an iframe, and SVG), with a preview',
      responses: { '200': { description: 'HTML page', content: html } },
    },
  },
  '/widget/fighting-fund': {
    get: {
      tags: ['fighting fund'],
      summary: 'The fund as a small HTML page to embed in an iframe',
      requestParams: { query: widgetQuery },
      responses: { '200': { description: 'HTML', content: html }, ...errorResponses(400, 404) },
    },
  },
  '/widget/fighting-fund.svg': {
    get: {
      tags: ['fighting fund'],
      summary: 'The fund as an SVG image',
      requestParams: { query: widgetQuery },
      responses: {
        '200': { description: 'SVG', content: { 'image/svg+xml': { schema: { type: 'string' as const } } } },
        ...errorResponses(400, 404),
      },
    },
  },
  '/': {
    get: {
      tags: ['pages'],
      summary: 'Home page: the fund banner, join, support, donate',
      responses: { '200': { description: 'HTML', content: html } },
    },
  },
  '/donate': {
    get: {
      tags: ['pages'],
      summary: 'The donate form (posts to POST /donate)',
      requestParams: {
        query: widgetQuery.extend({ amount: z.string().optional().meta({ description: 'Pre-filled amount in pounds, e.g. 10' }) }),
      },
      responses: { '200': { description: 'HTML', content: html } },
    },
  },
};
