/**
 * The shares component's HTTP surface: applying (JSON and the /shares page),
 * the member's certificate and withdrawal requests, and the board's register,
 * member search and withdrawal decisions (admin or treasurer role, audited).
 */
import { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../lib/http.js';
import { onReadersHost } from '../lib/readers-host.js';
import { renderPage } from '../lib/pages.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { currentActor, currentPerson, findCurrentPerson, optionalSession, requireRole, requireSession } from '../members/access.js';
import { csrfTokenFor } from '../members/csrf.js';
import { applyForShares, cancelledApplicationForm } from './applications.service.js';
import { certificateForPerson } from './member-certificates.js';
import { registerExportFilename, streamRegisterCsv, type RegisterExport } from './register-export.js';
import { searchRegister } from './register-search.js';
import { renderSharesPage, submitSharesForm } from './shares-page.js';
import {
  idParam,
  memberSearchQuery,
  memberSearchResult,
  shareApplicationCreated,
  shareApplicationForm,
  shareApplicationRequest,
  withdrawalAccepted,
  withdrawalAction,
  withdrawalDecision,
  withdrawalListQuery,
  withdrawalRequest,
  withdrawalView,
} from './shares.schemas.js';
import { decideWithdrawal, listShareWithdrawals, requestWithdrawal, submitWithdrawalForm } from './withdrawals.service.js';

export function sharesRouter(deps: AppDeps): Router {
  const router = Router();
  const board = requireRole(deps, 'admin', 'treasurer');
  const viewer = (req: Parameters<typeof findCurrentPerson>[0]) => ({ viewerPersonId: findCurrentPerson(req)?.id ?? null });

  // ---- applying --------------------------------------------------------------

  router.post('/api/share-applications', optionalSession(deps), async (req, res) => {
    const input = parseInput(shareApplicationRequest, req.body);
    res.status(201).json(await applyForShares(deps, viewer(req), input));
  });

  router.get('/shares', async (req, res) => {
    await renderSharesPage(deps, res, { csrfToken: csrfTokenFor(deps.config, req) });
  });

  // Checkout's cancel URL: back to the same form, filled in.
  router.get('/shares/resume/:id', async (req, res) => {
    const values = await cancelledApplicationForm(deps, req.params.id);
    if (!values) {
      res.redirect(303, '/shares');
      return;
    }
    await renderSharesPage(deps, res, { values, notice: 'cancelled', csrfToken: csrfTokenFor(deps.config, req) });
  });

  router.post('/shares', optionalSession(deps), async (req, res) => {
    const form = parseInput(shareApplicationForm, req.body ?? {});
    const result = await submitSharesForm(deps, viewer(req), form);
    if (result.ok) {
      res.redirect(303, onReadersHost(deps.config, req, result.checkoutUrl));
      return;
    }
    await renderSharesPage(deps, res, { values: result.values, errors: result.errors, status: result.status, csrfToken: csrfTokenFor(deps.config, req) });
  });

  // ---- the member ------------------------------------------------------------

  router.get('/api/me/certificate.pdf', requireSession(deps), async (req, res) => {
    const { filename, pdf } = await certificateForPerson(deps, currentPerson(req).id);
    res.setHeader('Content-Type', 'application/pdf');
    res.setHeader('Content-Disposition', `inline; filename="${filename}"`);
    res.setHeader('Cache-Control', 'private, no-store');
    res.send(pdf);
  });

  router.post('/api/me/share-withdrawals', requireSession(deps), async (req, res) => {
    const { shares } = parseInput(withdrawalRequest, req.body);
    const actor = currentActor(req);
    res.status(202).json(await requestWithdrawal(deps, { ...actor, id: currentPerson(req).id }, shares));
  });

  router.post('/account/share-withdrawals', requireSession(deps), async (req, res) => {
    const { shares } = parseInput(z.object({ shares: z.string().max(40).optional().default('') }), req.body ?? {});
    const result = await submitWithdrawalForm(deps, { ...currentActor(req), id: currentPerson(req).id }, shares);
    res.setHeader('Cache-Control', 'no-store');
    await renderPage(deps, res, 'share-withdrawal', { title: result.ok ? 'Your request is with the board' : 'We could not take that request', ...result }, result.status);
  });

  // ---- the board ---------------------------------------------------------------

  const exportRoute = (kind: RegisterExport) => async (req: Parameters<typeof currentActor>[0], res: import('express').Response) => {
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${registerExportFilename(deps, kind)}"`);
    res.setHeader('Cache-Control', 'no-store');
    await streamRegisterCsv(deps, currentActor(req), kind, res);
  };
  router.get('/api/admin/register.csv', board, exportRoute('register'));
  router.get('/api/admin/register/duplicate.csv', board, exportRoute('duplicate'));

  router.get('/api/admin/members', board, async (req, res) => {
    const query = parseInput(memberSearchQuery, req.query);
    res.json(await searchRegister(deps, currentActor(req), query));
  });

  router.get('/api/admin/share-withdrawals', board, async (req, res) => {
    const query = parseInput(withdrawalListQuery, req.query);
    res.json({ withdrawals: await listShareWithdrawals(deps, query) });
  });

  // One route per decision, as SPEC 3 names them: /approve, /reject, /defer, /paid.
  for (const action of withdrawalAction.options) {
    router.post(`/api/admin/share-withdrawals/:id/${action}`, board, async (req, res) => {
      const { id } = parseInput(idParam, { id: req.params.id });
      const { note } = parseInput(withdrawalDecision, req.body ?? {});
      res.json(await decideWithdrawal(deps, currentActor(req), id, action, note));
    });
  }

  return router;
}

const signedIn = { security: [{ session: [] }] };

const decisionPath = (action: string, summary: string, extra = '') => ({
  post: {
    ...signedIn,
    tags: ['shares', 'admin'],
    summary,
    description: `Admin or treasurer. Audited.${extra} 409 invalid_transition from a state that does not allow it.`,
    requestParams: { path: z.object({ id: z.uuid() }) },
    requestBody: { required: false, content: { 'application/json': { schema: withdrawalDecision } } },
    responses: {
      '200': { description: `The request, ${action}`, content: { 'application/json': { schema: withdrawalView } } },
      ...errorResponses(400, 401, 403, 404, 409),
    },
  },
});

export const sharesOpenApi: ZodOpenApiPathsObject = {
  '/api/share-applications': {
    post: {
      tags: ['shares'],
      summary: 'Apply for shares (become a member, or add to a holding)',
      description:
        'Checks the society\'s limits (price, minimum shares, maximum holding, minimum age) and opens a ' +
        'Stripe Checkout Session for N shares at the share price. Shares are allotted only when Stripe confirms the payment (webhook). ' +
        'Signed in as the applicant\'s address, the maximum holding counts the holding and the person\'s own applications awaiting payment, ' +
        'with the figures; for anyone else only the application\'s own amount is checked (the same answer for every address), and the ' +
        'holding is checked when the payment arrives (an over-cap payment is refunded in full and the address told why). ' +
        '422 codes: holding_cap_exceeded, below_minimum_shares, under_minimum_age, rules_not_accepted, applicant_mismatch (signed in: ' +
        'your address belongs to a member of the other kind), amount_too_large (over what one online payment can take).',
      requestBody: { required: true, content: { 'application/json': { schema: shareApplicationRequest } } },
      responses: {
        '201': { description: 'Created: send the applicant to checkoutUrl', content: { 'application/json': { schema: shareApplicationCreated } } },
        ...errorResponses(400, 422, 502),
      },
    },
  },
  '/shares/resume/{id}': {
    get: {
      tags: ['shares', 'pages'],
      summary: "Checkout's cancel URL: the application form filled in as the applicant left it",
      requestParams: { path: z.object({ id: z.string() }) },
      responses: {
        '200': { description: 'The form, filled in', content: { 'text/html': {} } },
        '303': { description: 'To /shares, for an unknown or already paid application' },
      },
    },
  },
  '/shares': {
    get: {
      tags: ['shares', 'pages'],
      summary: 'The /shares page: terms and the application form',
      responses: { '200': { description: 'HTML', content: { 'text/html': {} } } },
    },
    post: {
      tags: ['shares', 'pages'],
      summary: 'The /shares form',
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: shareApplicationForm } } },
      responses: {
        '303': { description: 'To the Checkout page' },
        '422': { description: 'The form again, with the problems beside the fields', content: { 'text/html': {} } },
      },
    },
  },
  '/api/me/certificate.pdf': {
    get: {
      ...signedIn,
      tags: ['shares'],
      summary: "The signed-in member's share certificate (PDF)",
      responses: {
        '200': { description: 'A one-page PDF', content: { 'application/pdf': {} } },
        ...errorResponses(401, 404),
      },
    },
  },
  '/api/me/share-withdrawals': {
    post: {
      ...signedIn,
      tags: ['shares'],
      summary: 'Ask to withdraw shares',
      description:
        'At most the shares held less those already asked for; what is left must be none or at least the minimum holding. The answer ' +
        'states the notice period. 422 codes: withdrawal_exceeds_holding, below_minimum_holding; 404 not_a_member.',
      requestBody: { required: true, content: { 'application/json': { schema: withdrawalRequest } } },
      responses: {
        '202': { description: 'Accepted: the board decides', content: { 'application/json': { schema: withdrawalAccepted } } },
        ...errorResponses(400, 401, 404, 422),
      },
    },
  },
  '/account/share-withdrawals': {
    post: {
      ...signedIn,
      tags: ['shares', 'pages'],
      summary: "The account page's withdrawal form",
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: z.object({ shares: z.string() }) } } },
      responses: {
        '202': { description: 'A page confirming the request and the notice period', content: { 'text/html': {} } },
        '422': { description: 'A page saying which rule the request breaks', content: { 'text/html': {} } },
      },
    },
  },
  '/api/admin/register.csv': {
    get: {
      ...signedIn,
      tags: ['shares', 'admin'],
      summary: 'The register of members (CSV, streamed)',
      description:
        'Every member, present and former, in member-number order: number, name, kind, registered society, postal address, email for notices, ' +
        'shares held, amount paid (pence), currency, dates admitted and ceased. Admin or treasurer; audited.',
      responses: { '200': { description: 'CSV', content: { 'text/csv': {} } }, ...errorResponses(401, 403) },
    },
  },
  '/api/admin/register/duplicate.csv': {
    get: {
      ...signedIn,
      tags: ['shares', 'admin'],
      summary: 'The duplicate register: the register without holdings (CSV, streamed)',
      responses: { '200': { description: 'CSV', content: { 'text/csv': {} } }, ...errorResponses(401, 403) },
    },
  },
  '/api/admin/members': {
    get: {
      ...signedIn,
      tags: ['shares', 'admin'],
      summary: 'Search the register by name, email, member number or postcode',
      requestParams: { query: memberSearchQuery },
      responses: {
        '200': { description: 'One page of members', content: { 'application/json': { schema: memberSearchResult } } },
        ...errorResponses(400, 401, 403),
      },
    },
  },
  '/api/admin/share-withdrawals': {
    get: {
      ...signedIn,
      tags: ['shares', 'admin'],
      summary: 'Withdrawal requests, oldest first',
      requestParams: { query: withdrawalListQuery },
      responses: {
        '200': { description: 'The requests', content: { 'application/json': { schema: z.object({ withdrawals: z.array(withdrawalView) }) } } },
        ...errorResponses(400, 401, 403),
      },
    },
  },
  '/api/admin/share-withdrawals/{id}/approve': decisionPath('approved', 'Approve a withdrawal request (from requested or deferred)'),
  '/api/admin/share-withdrawals/{id}/reject': decisionPath('rejected', 'Reject a withdrawal request'),
  '/api/admin/share-withdrawals/{id}/defer': decisionPath('deferred', 'Defer a withdrawal request (the board may, under the rules)'),
  '/api/admin/share-withdrawals/{id}/paid': decisionPath(
    'paid',
    'Record that an approved withdrawal was paid (outside Stripe)',
    ' Appends a withdrawal share transaction; a member left with no shares ceases. 409 insufficient_holding when the holding no longer covers it.',
  ),
};
