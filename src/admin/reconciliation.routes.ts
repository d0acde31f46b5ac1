/**
 * Reconciliation with Stripe (admin or treasurer):
 *   GET  /api/admin/reconciliation?from=&to=        compare Stripe and our books for local days
 *   POST /api/admin/reconciliation/repair {from,to}  book what Stripe has and we lack, once
 *   GET  /admin/reconciliation, POST /admin/reconciliation/repair   the same in the browser
 */
import { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../lib/http.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { currentActor, requireRole } from '../members/access.js';
import { adminOnlyPages, adminPagesErrorHandler, adminPagesOpenApi, renderAdminPage, tryAction } from './admin-pages.js';
import { acknowledgementsRangeQuery } from './fund-desk.schemas.js';
import { reconcile, recentRuns, repairFromStripe, type EventReplayer } from './reconciliation.service.js';

const periodQuery = acknowledgementsRangeQuery;
const pagePeriod = z.object({
  from: z.string().max(10).optional(),
  to: z.string().max(10).optional(),
  done: z.string().max(40).optional(),
});

const difference = z.object({
  kind: z.enum(['missing_in_books', 'missing_in_stripe', 'amount_differs']),
  object: z.enum(['payment', 'refund', 'dispute', 'dispute_won']),
  stripeId: z.string(),
  key: z.string(),
  stripeAmount: z.number().int().nullable(),
  bookedAmount: z.number().int().nullable(),
  currency: z.string(),
  at: z.string(),
  repairable: z.boolean(),
  note: z.string(),
});
const report = z
  .object({
    runId: z.number().int(),
    from: z.string(),
    to: z.string(),
    checkedAt: z.string(),
    clean: z.boolean(),
    stripe: z.object({ charges: z.number().int(), refunds: z.number().int(), disputes: z.number().int(), notOurs: z.number().int() }),
    differences: z.array(difference),
  })
  .meta({ id: 'ReconciliationReport' });
const repairResult = z
  .object({
    replayed: z.array(z.object({ eventId: z.string(), type: z.string(), key: z.string(), recorded: z.enum(['recorded', 'duplicate']) })),
    before: report,
    after: report,
  })
  .meta({ id: 'ReconciliationRepair' });

export function reconciliationRouter(deps: AppDeps, replayer: EventReplayer): Router {
  const router = Router();
  const treasurer = requireRole(deps, 'admin', 'treasurer');
  const pages = adminOnlyPages(deps);

  router.get('/api/admin/reconciliation', treasurer, async (req, res) => {
    const period = parseInput(periodQuery, req.query);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await reconcile(deps, period, 'api', currentActor(req)));
  });

  router.post('/api/admin/reconciliation/repair', treasurer, async (req, res) => {
    const period = parseInput(periodQuery, req.body);
    res.json(await repairFromStripe(deps, replayer, currentActor(req), period));
  });

  router.get('/admin/reconciliation', ...pages, async (req, res) => {
    const q = parseInput(pagePeriod, req.query);
    const runs = await recentRuns(deps);
    if (!q.from && !q.to) return renderAdminPage(deps, req, res, 'reconciliation', { title: 'Reconciliation with Stripe', runs });
    const period = periodQuery.safeParse({ from: q.from, to: q.to ?? q.from });
    if (!period.success) {
      return renderAdminPage(deps, req, res, 'reconciliation', { title: 'Reconciliation with Stripe', runs, period: q, error: { message: period.error.issues[0]?.message } }, 400);
    }
    const result = await tryAction(() => reconcile(deps, period.data, 'page', currentActor(req)));
    if (!result.ok) return renderAdminPage(deps, req, res, 'reconciliation', { title: 'Reconciliation with Stripe', runs, period: period.data, error: result.error }, result.error.status);
    await renderAdminPage(deps, req, res, 'reconciliation', { title: 'Reconciliation with Stripe', runs: await recentRuns(deps), period: period.data, report: result.value });
  });

  router.post('/admin/reconciliation/repair', ...pages, async (req, res) => {
    const period = periodQuery.safeParse(req.body ?? {});
    if (!period.success) {
      return renderAdminPage(deps, req, res, 'reconciliation', { title: 'Reconciliation with Stripe', runs: await recentRuns(deps), error: { message: period.error.issues[0]?.message } }, 400);
    }
    const result = await tryAction(() => repairFromStripe(deps, replayer, currentActor(req), period.data));
    if (!result.ok) return renderAdminPage(deps, req, res, 'reconciliation', { title: 'Reconciliation with Stripe', runs: await recentRuns(deps), period: period.data, error: result.error }, result.error.status);
    res.redirect(303, `/admin/reconciliation?from=${period.data.from}&to=${period.data.to}&done=repaired`);
  });

  router.use('/admin', adminPagesErrorHandler(deps));
  return router;
}

const auth = { security: [{ session: [] }] };

export const reconciliationOpenApi: ZodOpenApiPathsObject = {
  '/api/admin/reconciliation': {
    get: {
      ...auth,
      tags: ['admin', 'payments'],
      summary: "Compare Stripe's charges, refunds and disputes of the local days from..to with our books",
      description: 'Differences: missing_in_books (a webhook that never came), missing_in_stripe, amount_differs. 502 payment_provider_unavailable when Stripe does not answer.',
      requestParams: { query: periodQuery },
      responses: { '200': { description: 'The report', content: { 'application/json': { schema: report } } }, ...errorResponses(400, 401, 403, 502) },
    },
  },
  '/api/admin/reconciliation/repair': {
    post: {
      ...auth,
      tags: ['admin', 'payments'],
      summary: 'Book what Stripe has and our books lack, through the webhook path, exactly once however often it is called',
      requestBody: { required: true, content: { 'application/json': { schema: periodQuery } } },
      responses: { '200': { description: 'What was replayed, and the reports before and after', content: { 'application/json': { schema: repairResult } } }, ...errorResponses(400, 401, 403, 502) },
    },
  },
  ...(adminPagesOpenApi([
    ['get', '/admin/reconciliation', 'Reconciliation with Stripe for a period, with the recent runs'],
    ['post', '/admin/reconciliation/repair', 'Repair: book what Stripe has and our books lack'],
  ]) as ZodOpenApiPathsObject),
};
