/**
 * The supporters' HTTP surface: POST /api/supporters and the /support page,
 * PATCH /api/me/supporter, POST /api/me/billing-portal and the /account forms,
 * the one-click page from emails (/supporter/manage), and the admin list and CSV.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { Router, type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import type { AppDeps } from '../deps.js';
import { AppError } from '../lib/errors.js';
import { parseInput } from '../lib/http.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { formErrorSummary, renderPage } from '../lib/pages.js';
import { currentActor, currentPerson, findCurrentPerson, optionalSession, requireRole, requireSession } from '../members/access.js';
import { csrfTokenFor } from '../members/csrf.js';
import { changeMySupporter, openBillingPortal } from './supporter-changes.js';
import { submitSupporterForm, startSupporter } from './supporter-signup.js';
import { listSupportersForAdmin, openSupportersExport, SUPPORTERS_CSV_COLUMNS } from './supporters-admin.js';
import { actOnManageLink, changeFromForm, openManageLink } from './one-click.js';
import {
  adminSupportersQuery,
  adminSupportersResponse,
  billingPortalResponse,
  manageLinkForm,
  manageLinkQuery,
  supporterChangeRequest,
  supporterCreated,
  supporterForm,
  supporterRequest,
  supporterView,
  type SupporterForm,
} from './supporters.schemas.js';

export function supportersRouter(deps: AppDeps): Router {
  const router = Router();
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  const treasurer = requireRole(deps, 'admin', 'treasurer');

  router.post('/api/supporters', optionalSession(deps), async (req, res) => {
    const input = parseInput(supporterRequest, req.body);
    res.status(201).json(await startSupporter(deps, input, findCurrentPerson(req)?.id ?? null));
  });

  router.get('/support', optionalSession(deps), noStore, async (req, res) => {
    const interval = req.query.interval === 'year' ? 'year' : 'month';
    const amount = typeof req.query.amount === 'string' ? req.query.amount.slice(0, 20) : '';
    await renderSupportPage(deps, res, { values: { interval, amount, email: findCurrentPerson(req)?.email ?? '' }, errors: {} });
  });

  router.post('/support', optionalSession(deps), noStore, async (req, res) => {
    const form = parseInput(supporterForm, req.body ?? {});
    const result = await submitSupporterForm(deps, form, findCurrentPerson(req)?.id ?? null);
    if (result.ok) {
      res.redirect(303, result.checkoutUrl);
      return;
    }
    await renderSupportPage(deps, res, { values: { ...result.values, acknowledge: result.acknowledge }, errors: result.errors }, result.status);
  });

  router.patch('/api/me/supporter', requireSession(deps), noStore, async (req, res) => {
    const change = parseInput(supporterChangeRequest, req.body);
    res.json(await changeMySupporter(deps, currentActor(req), currentPerson(req).id, change));
  });

  router.post('/api/me/billing-portal', requireSession(deps), noStore, async (req, res) => {
    res.json(await openBillingPortal(deps, currentPerson(req).id));
  });

  // The /account page's supporter forms (plain HTML forms; the same changes as PATCH /api/me/supporter).
  router.post('/account/supporter', requireSession(deps), noStore, async (req, res) => {
    const form = parseInput(manageLinkForm, req.body ?? {});
    const change = changeFromForm(form);
    await changeMySupporter(deps, currentActor(req), currentPerson(req).id, change);
    res.redirect(303, '/account?supporter=asked#supporter');
  });

  router.post('/account/billing-portal', requireSession(deps), noStore, async (req, res) => {
    const { url } = await openBillingPortal(deps, currentPerson(req).id);
    res.redirect(303, url);
  });

  // The one-click page: a GET (a person, or a mail scanner) only looks; a POST acts, once.
  router.get('/supporter/manage', noStore, async (req, res) => {
    const { token } = parseInput(manageLinkQuery, req.query);
    const { supporter } = await openManageLink(deps, token);
    await renderPage(deps, res, 'supporter-manage', { title: 'Your support', supporter, token, csrf: csrfTokenFor(deps.config, req) });
  });

  router.post('/supporter/manage', noStore, async (req, res) => {
    const form = parseInput(manageLinkForm, req.body ?? {});
    const supporter = await actOnManageLink(deps, form);
    await renderPage(deps, res, 'supporter-manage', { title: 'Your support', supporter, done: form.action });
  });

  router.get('/api/admin/supporters', treasurer, noStore, async (req, res) => {
    const query = parseInput(adminSupportersQuery, req.query);
    res.json(await listSupportersForAdmin(deps, query));
  });

  router.get('/api/admin/supporters.csv', treasurer, noStore, async (req, res) => {
    const rows = await openSupportersExport(deps, currentActor(req));
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="supporters.csv"');
    await pipeline(
      Readable.from(rows),
      stringify({
        header: true,
        columns: [...SUPPORTERS_CSV_COLUMNS],
        cast: { boolean: (b) => (b ? 'true' : 'false'), string: (s) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s) },
      }),
      res,
    );
  });

  // Pages answer a browser with a page; API clients get the contract's JSON.
  const pageErrors: ErrorRequestHandler = async (err, req, res, next) => {
    if (!(err instanceof AppError) || res.headersSent) return next(err);
    const appError = err as AppError<string>;
    if (req.path === '/supporter/manage') {
      await renderPage(deps, res, 'supporter-manage', { title: 'Your support', problem: appError.message, code: appError.code }, appError.status);
      return;
    }
    if (req.path === '/account/supporter' || req.path === '/account/billing-portal') {
      await renderPage(deps, res, 'auth-message', { title: 'Your support was not changed', message: appError.message, code: appError.code }, appError.status);
      return;
    }
    next(err);
  };
  router.use(pageErrors);
  return router;
}

/** Renders /support: the form with the configured suggested amounts for each interval. */
export async function renderSupportPage(
  deps: AppDeps,
  res: Response,
  options: { values: Omit<Partial<SupporterForm>, 'acknowledge'> & { acknowledge?: boolean }; errors: Record<string, string> },
  status = 200,
): Promise<void> {
  const { config } = deps;
  const currency = config.society.currency;
  const interval = options.values.interval === 'year' ? 'year' : 'month';
  const suggested = (['month', 'year'] as const).map((i) => ({
    interval: i,
    amounts: config.supporters.suggested[i].map((pence) => ({ pence, pounds: String(pence / 100), href: `/support?interval=${i}&amount=${pence / 100}` })),
  }));
  await renderPage(
    deps,
    res,
    'support',
    {
      title: 'Become a supporter',
      currency,
      minimum: config.supporters.min,
      suggested,
      values: { ...options.values, interval },
      sandbox: config.stripe.sandbox,
      errors: options.errors,
      errorList: formErrorSummary(options.errors),
    },
    status,
  );
}

const auth = { security: [{ session: [] }] };

export const supportersOpenApi: ZodOpenApiPathsObject = {
  '/api/supporters': {
    post: {
      tags: ['supporters'],
      summary: 'Become a supporter: a payment every month or year',
      description:
        'Records the supporter and opens a Stripe Checkout Session in subscription mode. Nothing is charged or mirrored until Stripe confirms it (webhooks). ' +
        'A second sign-up for an address goes ahead like a first (the address is then emailed); only a signed-in supporter gets 409 already_supporting. ' +
        '422 codes: amount_below_minimum, amount_above_maximum, acknowledgement_needs_name.',
      requestBody: { required: true, content: { 'application/json': { schema: supporterRequest } } },
      responses: {
        '201': { description: 'Send the reader to checkoutUrl', content: { 'application/json': { schema: supporterCreated } } },
        ...errorResponses(400, 403, 409, 422, 502),
      },
    },
  },
  '/support': {
    get: { tags: ['supporters', 'pages'], summary: 'The become-a-supporter page', responses: { '200': { description: 'HTML', content: { 'text/html': {} } } } },
    post: {
      tags: ['supporters', 'pages'],
      summary: 'The /support form (amount in pounds)',
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: supporterForm } } },
      responses: { '303': { description: 'To the Checkout page' }, '422': { description: 'The form again, with the problems', content: { 'text/html': {} } } },
    },
  },
  '/api/me/supporter': {
    patch: {
      ...auth,
      tags: ['supporters', 'account'],
      summary: 'Change your subscription: amount or interval (from the next payment), pause or resume, cancel at period end or undo',
      description: 'Made through Stripe; `pending` shows the change until its webhook confirms it. 404 not_a_supporter, 409 subscription_not_changeable, 422 nothing_to_change / amount limits, 502 when Stripe does not answer.',
      requestBody: { required: true, content: { 'application/json': { schema: supporterChangeRequest } } },
      responses: { '200': { description: 'Your subscription', content: { 'application/json': { schema: supporterView } } }, ...errorResponses(400, 401, 403, 404, 409, 422, 502) },
    },
  },
  '/api/me/billing-portal': {
    post: {
      ...auth,
      tags: ['supporters', 'account'],
      summary: 'A Stripe Customer Portal session (card, invoices), returning to /account',
      responses: { '200': { description: 'Go to url', content: { 'application/json': { schema: billingPortalResponse } } }, ...errorResponses(401, 403, 404, 502) },
    },
  },
  '/account/supporter': {
    post: {
      ...auth,
      tags: ['supporters', 'pages'],
      summary: "The account page's supporter forms",
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: manageLinkForm } } },
      responses: { '303': { description: 'Asked of Stripe: back to /account' }, ...errorResponses(400, 401, 403, 404, 409, 422, 502) },
    },
  },
  '/account/billing-portal': {
    post: { ...auth, tags: ['supporters', 'pages'], summary: 'To the Customer Portal', responses: { '303': { description: 'To Stripe' }, ...errorResponses(401, 403, 404, 502) } },
  },
  '/supporter/manage': {
    get: {
      tags: ['supporters', 'pages'],
      summary: 'The one-click page from supporter emails: shows the subscription, changes nothing',
      requestParams: { query: manageLinkQuery },
      responses: { '200': { description: 'HTML', content: { 'text/html': {} } }, '400': { description: 'A tampered or expired link' }, '409': { description: 'A link already used' } },
    },
    post: {
      tags: ['supporters', 'pages'],
      summary: 'Acts on the one-click page (cancel, undo, pause, resume, change), once per link',
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: manageLinkForm } } },
      responses: { '200': { description: 'HTML: asked of Stripe', content: { 'text/html': {} } }, '400': { description: 'A tampered or expired link' }, '409': { description: 'A link already used' } },
    },
  },
  '/api/admin/supporters': {
    get: {
      ...auth,
      tags: ['admin', 'supporters'],
      summary: 'Supporters by status, paginated, with counts by status and the monthly recurring total',
      requestParams: { query: adminSupportersQuery },
      responses: { '200': { description: 'A page of supporters', content: { 'application/json': { schema: adminSupportersResponse } } }, ...errorResponses(400, 401, 403) },
    },
  },
  '/api/admin/supporters.csv': {
    get: {
      ...auth,
      tags: ['admin', 'supporters'],
      summary: 'Every supporter subscription as CSV, streamed',
      responses: { '200': { description: 'CSV, amounts in pence', content: { 'text/csv': { schema: { type: 'string' as const } } } }, ...errorResponses(401, 403) },
    },
  },
};
