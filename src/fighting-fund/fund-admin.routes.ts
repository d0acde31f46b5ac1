/**
 * The treasurer's side of the fund (admin or treasurer role): special
 * campaigns, offline gifts, reversals and the ledger as CSV. Every action is
 * audited in the same transaction as the change.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../lib/http.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { currentActor, requireRole } from '../members/access.js';
import { createSpecialCampaign, updateCampaign } from './campaigns.service.js';
import {
  campaignView,
  createCampaignRequest,
  ledgerCsvQuery,
  ledgerEntryParams,
  ledgerEntryView,
  offlineGiftRequest,
  reverseRequest,
  slugParams,
  updateCampaignRequest,
} from './fund.schemas.js';
import { LEDGER_CSV_COLUMNS, openLedgerExport } from './ledger-export.js';
import { reverseEntry } from './ledger-reversals.js';
import { recordOfflineGift } from './offline-gifts.js';

export function fundAdminRouter(deps: AppDeps): Router {
  const router = Router();
  const treasurer = requireRole(deps, 'admin', 'treasurer');

  router.post('/api/admin/campaigns', treasurer, async (req, res) => {
    const input = parseInput(createCampaignRequest, req.body);
    res.status(201).json(await createSpecialCampaign(deps, currentActor(req), input));
  });

  router.patch('/api/admin/campaigns/:slug', treasurer, async (req, res) => {
    const { slug } = parseInput(slugParams, req.params);
    const patch = parseInput(updateCampaignRequest, req.body);
    res.json(await updateCampaign(deps, currentActor(req), slug, patch));
  });

  router.post('/api/admin/ledger', treasurer, async (req, res) => {
    const gift = parseInput(offlineGiftRequest, req.body);
    res.status(201).json(await recordOfflineGift(deps, currentActor(req), gift));
  });

  router.post('/api/admin/ledger/:id/reverse', treasurer, async (req, res) => {
    const { id } = parseInput(ledgerEntryParams, req.params);
    const { reason } = parseInput(reverseRequest, req.body);
    res.status(201).json(await reverseEntry(deps, currentActor(req), id, reason));
  });

  router.get('/api/admin/ledger.csv', treasurer, async (req, res) => {
    const query = parseInput(ledgerCsvQuery, req.query);
    const { filename, rows } = await openLedgerExport(deps, currentActor(req), query);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
    res.setHeader('Cache-Control', 'no-store');
    await pipeline(
      Readable.from(rows),
      stringify({
        header: true,
        columns: [...LEDGER_CSV_COLUMNS],
        // A donor named "=HYPERLINK(...)" must not become a formula in the treasurer's spreadsheet.
        cast: { boolean: (b) => (b ? 'true' : 'false'), string: (s) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s) },
      }),
      res,
    );
  });

  return router;
}

const auth = { security: [{ session: [] }] };

export const fundAdminOpenApi: ZodOpenApiPathsObject = {
  '/api/admin/campaigns': {
    post: {
      ...auth,
      tags: ['admin', 'fighting fund'],
      summary: 'Create a special campaign (any period other than a calendar month)',
      description: '422 codes: slug_reserved, deadline_before_start, campaign_overlaps, currency_not_supported. 409 campaign_exists.',
      requestBody: { required: true, content: { 'application/json': { schema: createCampaignRequest } } },
      responses: {
        '201': { description: 'Created', content: { 'application/json': { schema: campaignView } } },
        ...errorResponses(400, 401, 403, 409, 422),
      },
    },
  },
  '/api/admin/campaigns/{slug}': {
    patch: {
      ...auth,
      tags: ['admin', 'fighting fund'],
      summary: "Change a campaign's title, target or (special campaigns) period",
      description: '422 codes: currency_cannot_change, monthly_period_fixed, deadline_before_start, campaign_overlaps.',
      requestParams: { path: slugParams },
      requestBody: { required: true, content: { 'application/json': { schema: updateCampaignRequest } } },
      responses: {
        '200': { description: 'The campaign', content: { 'application/json': { schema: campaignView } } },
        ...errorResponses(400, 401, 403, 404, 422),
      },
    },
  },
  '/api/admin/ledger': {
    post: {
      ...auth,
      tags: ['admin', 'fighting fund'],
      summary: 'Record an offline gift (cheque, bank transfer, cash, standing order, collection, other)',
      description:
        '422 codes: given_at_in_future, given_at_too_old (more than 6 years ago), acknowledgement_needs_name. 404 campaign_not_found. 409 duplicate_reference when the same method and reference were booked before (unless secondGift).',
      requestBody: { required: true, content: { 'application/json': { schema: offlineGiftRequest } } },
      responses: {
        '201': { description: 'The entry', content: { 'application/json': { schema: ledgerEntryView } } },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    },
  },
  '/api/admin/ledger/{id}/reverse': {
    post: {
      ...auth,
      tags: ['admin', 'fighting fund'],
      summary: 'Reverse an offline gift with a correcting entry of the opposite sign',
      description:
        '409 entry_already_reversed; 422 correction_not_reversible, stripe_entry_not_reversible (Stripe entries are corrected by refunds in Stripe); 404 ledger_entry_not_found.',
      requestParams: { path: ledgerEntryParams },
      requestBody: { required: true, content: { 'application/json': { schema: reverseRequest } } },
      responses: {
        '201': { description: 'The reversing entry', content: { 'application/json': { schema: ledgerEntryView } } },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    },
  },
  '/api/admin/ledger.csv': {
    get: {
      ...auth,
      tags: ['admin', 'fighting fund'],
      summary: 'The ledger as CSV (one campaign, or all of it), streamed',
      requestParams: { query: ledgerCsvQuery },
      responses: {
        '200': { description: 'CSV, amounts in pence', content: { 'text/csv': { schema: { type: 'string' as const } } } },
        ...errorResponses(400, 401, 403, 404),
      },
    },
  },
};
