/**
 * The signed-in person's own account: GET/PATCH /api/me, GET /api/me/export,
 * POST /api/me/erasure, and the /account page with its forms.
 * Nobody reaches another person's data here: every route works on the session's person.
 */
import { Router, type RequestHandler } from 'express';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../lib/http.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { formErrorSummary, renderPage } from '../lib/pages.js';
import { currentActor, currentPerson, findCurrentPerson, optionalSession, requireSession } from './access.js';
import { detailsForm, erasureForm, erasureRequest, erasureResponse, meResponse, updateMeRequest } from './account.schemas.js';
import { accountPageData, eraseMe, exportMyData, getMe, submitDetailsForm, updateMe, type AccountContributor } from './account.service.js';
import { csrfTokenFor } from './csrf.js';
import { clearedSessionCookieHeader } from './session.service.js';
import { membersErrorHandler } from './web.js';

export function accountRouter(deps: AppDeps, contributors: readonly AccountContributor[]): Router {
  const router = Router();
  // Personal data: never kept by a shared cache or the browser's back button.
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };

  router.get('/api/me', requireSession(deps), noStore, async (req, res) => {
    res.json(await getMe(deps, contributors, currentPerson(req).id));
  });

  router.patch('/api/me', requireSession(deps), noStore, async (req, res) => {
    const change = parseInput(updateMeRequest, req.body);
    res.json(await updateMe(deps, contributors, currentActor(req), currentPerson(req).id, change));
  });

  router.get('/api/me/export', requireSession(deps), noStore, async (req, res) => {
    const data = await exportMyData(deps, contributors, currentPerson(req).id);
    const day = data.exportedAt.slice(0, 10);
    res.setHeader('Content-Disposition', `attachment; filename="reader-coop-my-data-${day}.json"`);
    res.type('application/json').send(JSON.stringify(data, null, 2));
  });

  router.post('/api/me/erasure', requireSession(deps), noStore, async (req, res) => {
    parseInput(erasureRequest, req.body);
    const result = await eraseMe(deps, contributors, currentActor(req), currentPerson(req).id);
    res.setHeader('Set-Cookie', clearedSessionCookieHeader(deps.config));
    res.json(result);
  });

  router.get('/account', optionalSession(deps), noStore, async (req, res) => {
    const person = findCurrentPerson(req);
    if (!person) {
      await renderPage(deps, res, 'account-sign-in', { title: 'Sign in' });
      return;
    }
    const { me, sections } = await accountPageData(deps, contributors, person.id);
    await renderPage(deps, res, 'account', {
      title: 'Your account',
      me,
      values: formValues(me.person),
      errors: {},
      sections,
      csrf: csrfTokenFor(deps.config, req),
      saved: req.query.saved === '1',
    });
  });

  router.post('/account/details', requireSession(deps), noStore, async (req, res) => {
    const form = parseInput(detailsForm, req.body ?? {});
    const result = await submitDetailsForm(deps, contributors, currentActor(req), currentPerson(req).id, form);
    if (result.ok) {
      res.redirect(303, '/account?saved=1');
      return;
    }
    const { me, sections } = await accountPageData(deps, contributors, currentPerson(req).id);
    await renderPage(
      deps,
      res,
      'account',
      { title: 'Your account', me, values: { ...result.values, fundAppeals: result.values.fundAppeals === 'on', societyNews: result.values.societyNews === 'on' }, errors: result.errors, errorList: formErrorSummary(result.errors), sections, csrf: csrfTokenFor(deps.config, req) },
      422,
    );
  });

  router.post('/account/erasure', requireSession(deps), noStore, async (req, res) => {
    const form = parseInput(erasureForm, req.body ?? {});
    if (form.confirm !== 'yes') {
      res.redirect(303, '/account#erasure');
      return;
    }
    const result = await eraseMe(deps, contributors, currentActor(req), currentPerson(req).id);
    res.setHeader('Set-Cookie', clearedSessionCookieHeader(deps.config));
    await renderPage(deps, res, 'account-erased', { title: 'Your data has been erased', result });
  });

  router.use(membersErrorHandler(deps));
  return router;
}

function formValues(person: Awaited<ReturnType<typeof getMe>>['person']) {
  return {
    name: person.name ?? '',
    line1: person.postalAddress?.line1 ?? '',
    line2: person.postalAddress?.line2 ?? '',
    town: person.postalAddress?.town ?? '',
    postcode: person.postalAddress?.postcode ?? '',
    country: person.postalAddress?.country ?? '',
    fundAppeals: person.emailPreferences.fundAppeals,
    societyNews: person.emailPreferences.societyNews,
  };
}

export const accountOpenApi: ZodOpenApiPathsObject = {
  '/api/me': {
    get: {
      tags: ['account'],
      summary: 'Everything about the signed-in person: details, membership, shares, supporter, donations',
      security: [{ session: [] }],
      responses: { '200': { description: 'You', content: { 'application/json': { schema: meResponse } } }, ...errorResponses(401) },
    },
    patch: {
      tags: ['account'],
      summary: 'Change your name, postal address or email preferences (audited)',
      security: [{ session: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: updateMeRequest } } },
      responses: { '200': { description: 'You, changed', content: { 'application/json': { schema: meResponse } } }, ...errorResponses(400, 401, 403) },
    },
  },
  '/api/me/export': {
    get: {
      tags: ['account'],
      summary: 'Download all the data held about you, as JSON',
      security: [{ session: [] }],
      responses: { '200': { description: 'A JSON file (Content-Disposition: attachment)', content: { 'application/json': {} } }, ...errorResponses(401) },
    },
  },
  '/api/me/erasure': {
    post: {
      tags: ['account'],
      summary: 'Erase what the society may erase about you',
      description:
        'Erases your name, address, email and preferences (also on your donations) and the emails sent to you, and signs you out everywhere. ' +
        'The register of members must be kept, so a member\'s register entry stays; payment amounts stay in the accounts. 422 last_admin for the only admin. ' +
        '409 application_awaiting_payment while a share application\'s payment is still under way (ask again once it is paid or has expired).',
      security: [{ session: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: erasureRequest } } },
      responses: { '200': { description: 'What was erased and what was kept, and why', content: { 'application/json': { schema: erasureResponse } } }, ...errorResponses(400, 401, 403, 409, 422) },
    },
  },
  '/account': {
    get: {
      tags: ['account', 'pages'],
      summary: 'The account page (a sign-in form when signed out)',
      responses: { '200': { description: 'HTML', content: { 'text/html': {} } } },
    },
  },
  '/account/details': {
    post: {
      tags: ['account', 'pages'],
      summary: "The account page's details form",
      security: [{ session: [] }],
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: detailsForm } } },
      responses: { '303': { description: 'Saved: back to /account' }, '422': { description: 'The form again with problems', content: { 'text/html': {} } }, ...errorResponses(401, 403) },
    },
  },
  '/account/erasure': {
    post: {
      tags: ['account', 'pages'],
      summary: "The account page's erasure form (confirm=yes)",
      security: [{ session: [] }],
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: erasureForm } } },
      responses: { '200': { description: 'What was erased and kept', content: { 'text/html': {} } }, ...errorResponses(401, 403) },
    },
  },
};
