/**
 * Magic-link sign-in (SPEC 3): POST /api/auth/login, GET and POST /auth/callback,
 * POST /api/auth/logout, POST /api/auth/logout-everywhere.
 */
import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../lib/http.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { renderPage } from '../lib/pages.js';
import { currentActor, currentPerson, findCurrentPerson, optionalSession, requireSession, currentSession } from './access.js';
import { callbackForm, callbackQuery, loginAccepted, loginRequest } from './auth.schemas.js';
import { clearedSessionCookieHeader, sessionCookieHeader } from './session.service.js';
import { completeSignIn, isSignInTokenUsable, requestSignInLink, signOut, signOutEverywhere } from './sign-in.service.js';
import { membersErrorHandler, wantsHtml } from './web.js';

const SENT_MESSAGE = 'If that address can receive email, a sign-in link is on its way. It works once, for 15 minutes.';

// Served from our origin so the callback page needs no inline script (CSP: script-src 'self').
const AUTO_SUBMIT_JS = "document.getElementById('sign-in-form').submit();\n";

export function authRouter(deps: AppDeps): Router {
  const router = Router();

  router.post('/api/auth/login', async (req, res) => {
    const { email } = parseInput(loginRequest, req.body);
    await requestSignInLink(deps, { email, ip: req.ip ?? 'unknown' });
    if (wantsHtml(req)) {
      await renderPage(deps, res, 'sign-in-sent', { title: 'Check your email', message: SENT_MESSAGE }, 202);
      return;
    }
    res.status(202).json({ status: 'sent', message: SENT_MESSAGE });
  });

  router.get('/auth/callback', async (req, res) => {
    const { token } = parseInput(callbackQuery, req.query);
    const usable = await isSignInTokenUsable(deps, token);
    res.setHeader('Cache-Control', 'no-store');
    await renderPage(deps, res, 'sign-in-callback', { title: usable ? 'Signing you in' : 'This link no longer works', token, usable }, usable ? 200 : 401);
  });

  router.get('/auth/auto-submit.js', (_req, res) => {
    res.type('application/javascript').setHeader('Cache-Control', 'public, max-age=3600').send(AUTO_SUBMIT_JS);
  });

  router.post('/auth/callback', async (req, res) => {
    const { token } = parseInput(callbackForm, req.body ?? {});
    const session = await completeSignIn(deps, token, requestIdOf(req.id));
    res.setHeader('Set-Cookie', sessionCookieHeader(deps.config, session.token, session.claims.expiresAt, deps.clock.now()));
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, '/account');
  });

  router.post('/api/auth/logout', optionalSession(deps), async (req, res) => {
    await signOut(deps, findCurrentPerson(req) ? currentSession(req) : undefined);
    res.setHeader('Set-Cookie', clearedSessionCookieHeader(deps.config));
    if (wantsHtml(req)) res.redirect(303, '/account');
    else res.status(204).end();
  });

  router.post('/api/auth/logout-everywhere', requireSession(deps), async (req, res) => {
    await signOutEverywhere(deps, currentActor(req), currentPerson(req).id);
    res.setHeader('Set-Cookie', clearedSessionCookieHeader(deps.config));
    if (wantsHtml(req)) res.redirect(303, '/account');
    else res.status(204).end();
  });

  router.use(membersErrorHandler(deps));
  return router;
}

function requestIdOf(id: unknown): string | null {
  return typeof id === 'string' ? id : typeof id === 'number' ? String(id) : null;
}

export const authOpenApi: ZodOpenApiPathsObject = {
  '/api/auth/login': {
    post: {
      tags: ['sign-in'],
      summary: 'Email a sign-in link',
      description:
        'Always 202 with the same body, whether or not the address is known: a link to PUBLIC_URL/auth/callback?token=... is emailed ' +
        '(valid 15 minutes, single use). Unknown addresses get a link too; the person record is created when the link is used. ' +
        'Limited to 20 requests per IP address per 15 minutes (429 rate_limited with Retry-After). An address is never refused: ' +
        'while it has 5 unused links waiting, further requests answer the same 202 and send nothing, so a flood cannot lock its owner out.',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: loginRequest }, 'application/x-www-form-urlencoded': { schema: loginRequest } },
      },
      responses: {
        '202': { description: 'Accepted', content: { 'application/json': { schema: loginAccepted } } },
        ...errorResponses(400, 429),
      },
    },
  },
  '/auth/callback': {
    get: {
      tags: ['sign-in', 'pages'],
      summary: 'The emailed link: a page whose form posts the token back',
      description: 'Never uses the token up (mail scanners open links). 401 page when the token is used, expired or unknown.',
      requestParams: { query: callbackQuery },
      responses: { '200': { description: 'The sign-in page', content: { 'text/html': {} } }, '401': { description: 'The link no longer works', content: { 'text/html': {} } } },
    },
    post: {
      tags: ['sign-in'],
      summary: 'Use the token: sets the session cookie',
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: callbackForm } } },
      responses: {
        '303': { description: 'Signed in: Set-Cookie session (HttpOnly, SameSite=Lax), to /account' },
        ...errorResponses(400, 401, 403),
      },
    },
  },
  '/api/auth/logout': {
    post: {
      tags: ['sign-in'],
      summary: 'Sign out: this session cookie stops working',
      security: [{ session: [] }],
      responses: { '204': { description: 'Signed out (also without a session)' }, ...errorResponses(403) },
    },
  },
  '/api/auth/logout-everywhere': {
    post: {
      tags: ['sign-in'],
      summary: 'Sign out everywhere: every session of this person stops working',
      security: [{ session: [] }],
      responses: { '204': { description: 'Signed out on every device' }, ...errorResponses(401, 403) },
    },
  },
};
