/**
 * Who is calling. Every route that needs a signed-in person or a role uses these
 * middlewares; nothing else reads the session cookie.
 *
 *   router.get('/api/me', requireSession(deps), handler)           -> 401 without a valid session
 *   router.post('/api/admin/x', requireRole(deps, 'admin', 'treasurer'), handler) -> 401 / 403
 *   const who = currentPerson(req)                                  -> the signed-in person
 *   router.get('/account', optionalSession(deps), handler)          -> findCurrentPerson(req) may be undefined
 */
import type { Request, RequestHandler } from 'express';
import type { AppDeps } from '../deps.js';
import type { Actor } from '../admin/audit.service.js';
import { AppError } from '../lib/errors.js';
import { readSessionCookie, resolveSession, type SessionClaims } from './session.service.js';

export type Role = 'admin' | 'treasurer';

export interface SessionPerson {
  id: string;
  email: string;
  roles: Role[];
}

interface RequestSession {
  person: SessionPerson & { name: string | null };
  claims: SessionClaims;
}

const sessionKey = Symbol('session');

type WithSession = Request & { [sessionKey]?: RequestSession | null };

const unauthenticated = () => new AppError({ code: 'unauthenticated', status: 401, message: 'Please sign in.' });

export function currentPerson(req: Request): SessionPerson {
  const session = (req as WithSession)[sessionKey];
  if (!session) throw unauthenticated();
  return session.person;
}

/** The signed-in person, or undefined (after optionalSession / requireSession). */
export function findCurrentPerson(req: Request): (SessionPerson & { name: string | null }) | undefined {
  return (req as WithSession)[sessionKey]?.person;
}

/** The session's own claims (for signing out this session). */
export function currentSession(req: Request): SessionClaims {
  const session = (req as WithSession)[sessionKey];
  if (!session) throw unauthenticated();
  return session.claims;
}

/** Who did it, for the audit log. */
export function currentActor(req: Request): Actor {
  const person = currentPerson(req);
  return { id: person.id, email: person.email, requestId: typeof req.id === 'string' ? req.id : typeof req.id === 'number' ? String(req.id) : null };
}

/** Reads and verifies the session cookie once per request. */
async function loadSession(deps: AppDeps, req: Request): Promise<RequestSession | null> {
  const r = req as WithSession;
  if (r[sessionKey] !== undefined) return r[sessionKey];
  const token = readSessionCookie(req.headers.cookie);
  const resolved = token ? await resolveSession(deps, token) : null;
  r[sessionKey] = resolved ? { person: resolved.person, claims: resolved.claims } : null;
  return r[sessionKey];
}

export function optionalSession(deps: AppDeps): RequestHandler {
  return async (req, _res, next) => {
    await loadSession(deps, req);
    next();
  };
}

export function requireSession(deps: AppDeps): RequestHandler {
  return async (req, _res, next) => {
    const session = await loadSession(deps, req);
    next(session ? undefined : unauthenticated());
  };
}

/** A signed-in person holding at least one of `roles`: 401 without a session, 403 without the role. */
export function requireRole(deps: AppDeps, ...roles: Role[]): RequestHandler {
  return async (req, _res, next) => {
    const session = await loadSession(deps, req);
    if (!session) return next(unauthenticated());
    if (!session.person.roles.some((r) => roles.includes(r))) {
      return next(new AppError({ code: 'forbidden', status: 403, message: 'You do not have the role this needs.' }));
    }
    next();
  };
}
