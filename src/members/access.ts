/**
 * Who is calling. Every route that needs a signed-in person or a role uses these
 * middlewares; nothing else reads the session cookie.
 *
 *   router.get('/api/me', requireSession(deps), handler)           -> 401 without a valid session
 *   router.post('/api/admin/x', requireRole(deps, 'admin', 'treasurer'), handler) -> 401 / 403
 *   const who = currentPerson(req)                                  -> the signed-in person
 *
 * NOTE: the session implementation (magic links, JWT cookie) arrives with issue 3;
 * until then every protected route answers 401.
 */
import type { Request, RequestHandler } from 'express';
import type { AppDeps } from '../app.js';
import { AppError } from '../lib/errors.js';

export type Role = 'admin' | 'treasurer';

export interface SessionPerson {
  id: string;
  email: string;
  roles: Role[];
}

const personKey = Symbol('person');

export function currentPerson(req: Request): SessionPerson {
  const person = (req as unknown as Record<symbol, SessionPerson | undefined>)[personKey];
  if (!person) throw new AppError({ code: 'unauthenticated', status: 401, message: 'Please sign in.' });
  return person;
}

export function requireSession(_deps: AppDeps): RequestHandler {
  return (_req, _res, next) => next(new AppError({ code: 'unauthenticated', status: 401, message: 'Please sign in.' }));
}

export function requireRole(deps: AppDeps, ..._roles: Role[]): RequestHandler {
  return requireSession(deps);
}
