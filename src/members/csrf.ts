/**
 * Cross-site request protection. A browser sends the session cookie with any
 * request to us, including one a hostile page makes it send; SameSite=Lax stops
 * most of that, and this closes the rest: a state-changing request (POST, PUT,
 * PATCH, DELETE) that carries the session cookie must come from our own origin
 * (its Origin header is PUBLIC_URL's origin), or, when a browser sends no
 * Origin (or `null`), carry the page's CSRF token (form field `_csrf` or header
 * `x-csrf-token`). Otherwise: 403 `cross_site_request`. Requests without the
 * cookie (webhooks, API clients, the sandbox) are unaffected, except the
 * sign-in callback, which refuses a foreign Origin (no signing someone into
 * an attacker's account).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { AppDeps } from '../deps.js';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';
import { readersOrigin } from '../lib/readers-host.js';
import { keysFor } from './auth-keys.js';
import { readSessionCookie } from './session.service.js';

export type CsrfErrorCode = 'cross_site_request';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The token a page embeds in its forms for the current session (empty without one). */
export function csrfTokenFor(config: Config, req: Request): string {
  const session = readSessionCookie(req.headers.cookie);
  return session ? mac(keysFor(config, 'csrf').signing, session) : '';
}

function mac(key: Uint8Array, session: string): string {
  return createHmac('sha256', key).update(session).digest('base64url');
}

function validToken(config: Config, session: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 100) return false;
  const givenBytes = Buffer.from(given);
  return keysFor(config, 'csrf').verifying.some((key) => {
    const expected = Buffer.from(mac(key, session));
    return expected.length === givenBytes.length && timingSafeEqual(expected, givenBytes);
  });
}

export function csrfProtection(deps: Pick<AppDeps, 'config'>): RequestHandler {
  const publicOrigin = new URL(deps.config.publicUrl).origin;
  const refuse = () =>
    new AppError<CsrfErrorCode>({
      code: 'cross_site_request',
      status: 403,
      message: 'This request came from another site, so it was refused. Please try again from our own pages.',
    });
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const origin = req.headers.origin;
    // In development without PUBLIC_URL, the address the reader used (127.0.0.1, a LAN address) is our own too.
    const ours = (o: string) => o === publicOrigin || (!deps.config.publicUrlGiven && o === readersOrigin(deps.config, req));
    const session = readSessionCookie(req.headers.cookie);
    if (!session) {
      if (req.path === '/auth/callback' && origin !== undefined && !ours(origin)) return next(refuse());
      return next();
    }
    // `Origin: null` (a privacy setting, a redirect) says nothing either way: the token decides.
    if (origin !== undefined && origin !== 'null') return next(ours(origin) ? undefined : refuse());
    const body = req.body as Record<string, unknown> | undefined;
    const given = req.headers['x-csrf-token'] ?? (body && typeof body === 'object' ? body._csrf : undefined);
    next(validToken(deps.config, session, given) ? undefined : refuse());
  };
}
