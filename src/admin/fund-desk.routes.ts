/**
 * The treasurer's fund desk, in the browser and over the API (admin or treasurer):
 *   /admin                      Today: the campaign, gifts today and this week, what waits
 *   /admin/campaigns            list, create a special appeal, change a target or deadline
 *   /admin/ledger               filter and page the ledger, record an offline gift, reverse an entry
 *   /admin/import               a bank statement: upload, preview, book
 *   /admin/donors               the donor list the paper prints
 *   POST /api/admin/ledger/import, GET /api/admin/acknowledgements
 * Every action goes through the fund's services, which audit it.
 */
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { importBankStatement, IMPORT_OPTIONAL_COLUMNS, IMPORT_REQUIRED_COLUMNS, type ImportReport } from '../fighting-fund/bank-import.service.js';
import { createSpecialCampaign, updateCampaign } from '../fighting-fund/campaigns.service.js';
import { campaignsWithTotals, donorList, giftFigures, ledgerPage, localDayEnd, localDayStart } from '../fighting-fund/fund-desk.service.js';
import { fundSummariesFor } from '../fighting-fund/fund-summary.service.js';
import { ledgerEntryParams, offlineMethod } from '../fighting-fund/fund.schemas.js';
import { recordOfflineGift } from '../fighting-fund/offline-gifts.js';
import { reverseEntry } from '../fighting-fund/ledger-reversals.js';
import { AppError } from '../lib/errors.js';
import { parseInput } from '../lib/http.js';
import { parseMajorUnits } from '../lib/money.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { currentActor, requireRole } from '../members/access.js';
import { localDate } from '../shares/share-rules.js';
import { listShareWithdrawals } from '../shares/withdrawals.service.js';
import { adminOnlyPages, adminPagesErrorHandler, adminPagesOpenApi, checked, field, renderAdminPage, tryAction } from './admin-pages.js';
import { countFailingEmails, countFailingJobs } from './desk-status.repository.js';
import { acknowledgementsRangeQuery, donorListResponse, donorPageQuery, importQuery, importReport, ledgerPageQuery } from './fund-desk.schemas.js';
import { readMultipartForm } from './multipart.js';
import { deskExtras } from './desk-extras.js';

const METHOD_LABELS: Record<string, string> = {
  cheque: 'Cheque',
  bank_transfer: 'Bank transfer',
  cash: 'Cash',
  standing_order: 'Standing order',
  collection: 'Collection',
  other: 'Other',
};
const KIND_LABELS: Record<string, string> = {
  online_donation: 'Online donation',
  supporter_payment: 'Supporter payment',
  offline_gift: 'Offline gift',
  refund: 'Refund',
  dispute: 'Dispute',
  dispute_won: 'Dispute won',
  correction: 'Correction',
};
const IMPORT_LIMIT_BYTES = 2 * 1024 * 1024;

export function fundDeskRouter(deps: AppDeps): Router {
  const router = Router();
  const treasurer = requireRole(deps, 'admin', 'treasurer');
  const pages = adminOnlyPages(deps);
  const tz = deps.config.society.timeZone;
  const today = () => localDate(deps.clock.now(), tz);

  // ---- API ---------------------------------------------------------------------

  router.post(
    '/api/admin/ledger/import',
    treasurer,
    express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: IMPORT_LIMIT_BYTES }),
    async (req, res) => {
      const { dryRun } = parseInput(importQuery, req.query);
      if (typeof req.body !== 'string') {
        throw new AppError({ code: 'unsupported_media_type', status: 415, message: 'Send the statement as the body, with Content-Type: text/csv.' });
      }
      const report = await importBankStatement(deps, currentActor(req), req.body, { dryRun: dryRun === 'true' });
      res.status(dryRun === 'true' ? 200 : 201).json(report);
    },
  );

  router.get('/api/admin/acknowledgements', treasurer, async (req, res) => {
    const { from, to } = parseInput(acknowledgementsRangeQuery, req.query);
    const list = await donorList(deps, from, to);
    res.setHeader('Cache-Control', 'no-store');
    res.vary('Accept');
    if (req.accepts(['json', 'text/plain']) === 'text/plain') res.type('text/plain; charset=utf-8').send(list.text);
    else res.json(list);
  });

  // ---- Today -----------------------------------------------------------------------

  router.get('/admin', ...pages, async (req, res) => {
    const [fund, gifts, withdrawals, jobs, emails, extras] = await Promise.all([
      fundSummariesFor(deps).get(null),
      giftFigures(deps),
      listShareWithdrawals(deps, {}),
      countFailingJobs(deps.db),
      countFailingEmails(deps.db),
      deskExtras(deps),
    ]);
    const open = withdrawals.filter((w) => w.status === 'requested' || w.status === 'deferred' || w.status === 'approved');
    await renderAdminPage(deps, req, res, 'today', {
      title: 'Today',
      fund: fund.summary,
      gifts,
      waiting: {
        withdrawals: open.length,
        toDecide: open.filter((w) => w.status !== 'approved').length,
        toPay: open.filter((w) => w.status === 'approved').length,
        failedJobs: jobs.failed,
        retryingJobs: jobs.retrying,
        failingEmails: emails,
        reconciliations: extras.reconciliations,
      },
      supporters: extras.supporters,
    });
  });

  // ---- Campaigns -------------------------------------------------------------------

  const campaignsPage = async (req: Request, res: Response, vars: Record<string, unknown> = {}, status = 200) =>
    renderAdminPage(deps, req, res, 'campaigns', { title: 'Campaigns', campaigns: await campaignsWithTotals(deps), values: {}, ...vars }, status);

  router.get('/admin/campaigns', ...pages, (req, res) => campaignsPage(req, res));

  router.post('/admin/campaigns', ...pages, async (req, res) => {
    const b = req.body as unknown;
    const values = { slug: field(b, 'slug'), title: field(b, 'title'), target: field(b, 'target'), startsOn: field(b, 'startsOn'), endsOn: field(b, 'endsOn') };
    const target = parseMajorUnits(values.target ?? '');
    const result = await tryAction(async () => {
      if (!values.slug || !values.title || !target || !isDay(values.startsOn) || !isDay(values.endsOn)) {
        throw new AppError({ code: 'invalid_request', status: 400, message: 'Give a slug, a title, a target in pounds, a first day and a last day.' });
      }
      const slug = parseInput(z.object({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'the slug must be lower-case letters, digits and hyphens') }), { slug: values.slug }).slug;
      return createSpecialCampaign(deps, currentActor(req), {
        slug,
        title: values.title,
        target,
        startsAt: localDayStart(values.startsOn, tz),
        deadline: new Date(localDayEnd(values.endsOn, tz).getTime() - 1000),
      });
    });
    if (result.ok) return res.redirect(303, '/admin/campaigns?done=campaign_created');
    await campaignsPage(req, res, { error: result.error, values }, result.error.status);
  });

  router.post('/admin/campaigns/:slug', ...pages, async (req, res) => {
    const { slug } = parseInput(z.object({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) }), req.params);
    const b = req.body as unknown;
    const targetText = field(b, 'target');
    const endsOn = field(b, 'endsOn');
    const title = field(b, 'title');
    const result = await tryAction(async () => {
      const target = targetText === undefined ? undefined : parseMajorUnits(targetText);
      if (target === null || target === 0) throw new AppError({ code: 'invalid_request', status: 400, message: 'The target must be an amount in pounds, such as 18000.' });
      if (endsOn !== undefined && !isDay(endsOn)) throw new AppError({ code: 'invalid_request', status: 400, message: 'The last day must be a date.' });
      return updateCampaign(deps, currentActor(req), slug, {
        title,
        target,
        deadline: endsOn ? new Date(localDayEnd(endsOn, tz).getTime() - 1000) : undefined,
      });
    });
    if (result.ok) return res.redirect(303, '/admin/campaigns?done=campaign_updated');
    await campaignsPage(req, res, { error: result.error }, result.error.status);
  });

  // ---- Ledger ----------------------------------------------------------------------

  router.get('/admin/ledger', ...pages, async (req, res) => {
    const q = parseInput(ledgerPageQuery, req.query);
    const page = await ledgerPage(deps, { ...q, pageSize: 50 });
    const filters = new URLSearchParams(
      Object.entries({ campaign: q.campaign, kind: q.kind, method: q.method, from: q.from, to: q.to }).filter((e): e is [string, string] => !!e[1]),
    );
    await renderAdminPage(deps, req, res, 'ledger', {
      title: 'Ledger',
      page,
      filter: q,
      filterQuery: filters.toString(),
      csvQuery: q.campaign ? `?campaign=${encodeURIComponent(q.campaign)}` : '',
      campaigns: await campaignsWithTotals(deps),
      methods: METHOD_LABELS,
      kinds: KIND_LABELS,
    });
  });

  const giftForm = async (req: Request, res: Response, vars: Record<string, unknown> = {}, status = 200) =>
    renderAdminPage(
      deps,
      req,
      res,
      'ledger-new',
      { title: 'Record an offline gift', campaigns: await campaignsWithTotals(deps), methods: METHOD_LABELS, values: { givenOn: today(), method: 'cheque' }, ...vars },
      status,
    );

  router.get('/admin/ledger/new', ...pages, (req, res) => giftForm(req, res));

  router.post('/admin/ledger', ...pages, async (req, res) => {
    const b = req.body as unknown;
    const values = {
      amount: field(b, 'amount'),
      method: field(b, 'method'),
      reference: field(b, 'reference'),
      givenOn: field(b, 'givenOn'),
      campaign: field(b, 'campaign'),
      name: field(b, 'name'),
      town: field(b, 'town'),
      acknowledge: checked(field(b, 'acknowledge')),
      secondGift: checked(field(b, 'secondGift')),
    };
    const result = await tryAction(async () => {
      const amount = parseMajorUnits(values.amount ?? '');
      const method = offlineMethod.safeParse(values.method);
      if (!amount) throw new AppError({ code: 'invalid_request', status: 400, message: 'The amount must be in pounds, such as 25 or 12.50.' });
      if (!method.success) throw new AppError({ code: 'invalid_request', status: 400, message: 'Choose how the money came.' });
      if (!values.reference) throw new AppError({ code: 'invalid_request', status: 400, message: 'Give a reference: the cheque number, the bank reference or the collection.' });
      if (!isDay(values.givenOn)) throw new AppError({ code: 'invalid_request', status: 400, message: 'Give the date the money was given.' });
      return recordOfflineGift(deps, currentActor(req), {
        amount,
        method: method.data,
        reference: values.reference.slice(0, 200),
        givenAt: localDayStart(values.givenOn, tz),
        campaign: values.campaign,
        name: values.name?.slice(0, 100),
        town: values.town?.slice(0, 100),
        acknowledge: values.acknowledge,
        secondGift: values.secondGift,
      });
    });
    if (result.ok) return res.redirect(303, `/admin/ledger?done=gift_recorded`);
    await giftForm(req, res, { error: result.error, values, duplicate: result.error.code === 'duplicate_reference' }, result.error.status);
  });

  const reverseForm = async (req: Request, res: Response, id: number, vars: Record<string, unknown> = {}, status = 200) =>
    renderAdminPage(deps, req, res, 'ledger-reverse', { title: `Reverse entry ${id}`, id, ...vars }, status);

  router.get('/admin/ledger/:id/reverse', ...pages, async (req, res) => {
    const { id } = parseInput(ledgerEntryParams, req.params);
    await reverseForm(req, res, id);
  });

  router.post('/admin/ledger/:id/reverse', ...pages, async (req, res) => {
    const { id } = parseInput(ledgerEntryParams, req.params);
    const reason = field(req.body, 'reason');
    const result = await tryAction(async () => {
      if (!reason) throw new AppError({ code: 'invalid_request', status: 400, message: 'Say why the entry is reversed.' });
      return reverseEntry(deps, currentActor(req), id, reason.slice(0, 500));
    });
    if (result.ok) return res.redirect(303, '/admin/ledger?done=entry_reversed');
    await reverseForm(req, res, id, { error: result.error, reason }, result.error.status);
  });

  // ---- Bank import ------------------------------------------------------------------

  const importPage = async (req: Request, res: Response, vars: Record<string, unknown> = {}, status = 200) =>
    renderAdminPage(
      deps,
      req,
      res,
      'import',
      { title: 'Bank import', required: IMPORT_REQUIRED_COLUMNS.join(','), optional: IMPORT_OPTIONAL_COLUMNS.join(','), ...vars },
      status,
    );

  router.get('/admin/import', ...pages, (req, res) => importPage(req, res));

  // One form posts both steps: "preview" (the file, or text pasted) and "book" (the previewed text, carried in the form).
  router.post('/admin/import', ...pages, async (req, res) => {
    const form = await readMultipartForm(req, { fileBytes: IMPORT_LIMIT_BYTES, fieldBytes: IMPORT_LIMIT_BYTES });
    const book = form.fields.step === 'book';
    const text = form.files.statement?.text.trim() ? form.files.statement.text : (form.fields.csv ?? '');
    if (!text.trim()) {
      return importPage(req, res, { error: { message: 'Choose the CSV file of the statement (or paste it).' } }, 400);
    }
    const result = await tryAction(() => importBankStatement(deps, currentActor(req), text, { dryRun: !book }));
    if (result.ok) {
      return importPage(req, res, { report: result.value, csv: text, booked: book }, book ? 201 : 200);
    }
    const report = (result.error.details as { report?: ImportReport } | undefined)?.report;
    await importPage(req, res, { error: result.error, report, csv: text, booked: false }, result.error.status);
  });

  // ---- Donor list ------------------------------------------------------------------------

  router.get('/admin/donors', ...pages, async (req, res) => {
    const q = parseInput(donorPageQuery, req.query);
    const from = q.from ?? today();
    const to = q.to ?? from;
    const checkedRange = acknowledgementsRangeQuery.safeParse({ from, to });
    if (!checkedRange.success) {
      return renderAdminPage(deps, req, res, 'donors', { title: 'Donor list', from, to, error: { message: checkedRange.error.issues[0]?.message } }, 400);
    }
    await renderAdminPage(deps, req, res, 'donors', { title: 'Donor list', from, to, list: await donorList(deps, from, to) });
  });

  router.use('/admin', adminPagesErrorHandler(deps));
  return router;
}

function isDay(s: string | undefined): s is string {
  return !!s && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
}

const auth = { security: [{ session: [] }] };

export const fundDeskOpenApi: ZodOpenApiPathsObject = {
  '/api/admin/ledger/import': {
    post: {
      ...auth,
      tags: ['admin', 'fighting fund'],
      summary: 'Import a bank statement (CSV) as offline gifts: all new rows in one transaction, or none',
      description:
        'Body text/csv with the header date,amount,reference,name and optionally town,acknowledge,method. date YYYY-MM-DD or DD/MM/YYYY; ' +
        'amount in pounds (12.50); method default bank_transfer; acknowledge yes/no (default no). A row whose method and reference were booked ' +
        'before is skipped (already_booked). 201 with a line per row; 200 for ?dryRun=true; 422 import_rows_invalid with the wrong rows and nothing booked; ' +
        '400 import_not_csv for a file without the header.',
      requestParams: { query: importQuery },
      requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' as const } } } },
      responses: {
        '200': { description: 'Preview (dryRun)', content: { 'application/json': { schema: importReport } } },
        '201': { description: 'Booked', content: { 'application/json': { schema: importReport } } },
        ...errorResponses(400, 401, 403, 413, 415, 422),
      },
    },
  },
  '/api/admin/acknowledgements': {
    get: {
      ...auth,
      tags: ['admin', 'fighting fund'],
      summary: 'The donor list the paper prints for a day or a range (JSON, or text with Accept: text/plain)',
      description: 'Named donors only where they chose to be named; everyone else is counted ("£10 each three readers"), never named.',
      requestParams: { query: acknowledgementsRangeQuery },
      responses: {
        '200': {
          description: 'The list',
          content: { 'application/json': { schema: donorListResponse }, 'text/plain': { schema: { type: 'string' as const } } },
        },
        ...errorResponses(400, 401, 403),
      },
    },
  },
};

Object.assign(
  fundDeskOpenApi,
  adminPagesOpenApi([
    ['get', '/admin', 'Today: the campaign, gifts today and this week, what waits for a decision'],
    ['get', '/admin/campaigns', 'Campaigns with their totals'],
    ['post', '/admin/campaigns', 'Create a special appeal'],
    ['post', '/admin/campaigns/{slug}', "Change a campaign's target or last day"],
    ['get', '/admin/ledger', 'The ledger, filtered and paged'],
    ['get', '/admin/ledger/new', 'The form to record an offline gift'],
    ['post', '/admin/ledger', 'Record an offline gift'],
    ['get', '/admin/ledger/{id}/reverse', 'The form to reverse an entry'],
    ['post', '/admin/ledger/{id}/reverse', 'Reverse an entry with a reason'],
    ['get', '/admin/import', 'The bank-import page'],
    ['post', '/admin/import', 'Preview (step=preview) or book (step=book) a bank statement'],
    ['get', '/admin/donors', 'The donor list for a day or a range'],
  ]),
);
