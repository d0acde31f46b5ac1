/**
 * Sessions: a JWT (jose, HS256, key derived from AUTH_SECRET) in an HttpOnly,
 * SameSite=Lax cookie, Secure when PUBLIC_URL is https. The token names the
 * person, the person's session version ("sign out everywhere" bumps it) and a
 * session id ("sign out" records it as ended). Roles are read from the database
 * on every request, so a revoked role takes effect at once.
 */
import { randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { AppDeps } from '../deps.js';
import type { Config } from '../config.js';
import type { Executor } from '../db/database.js';
import type { Person, RoleName } from '../db/schema.js';
import { bumpSessionVersion } from './people.repository.js';
import { findSessionPerson, insertEndedSession } from './session.repository.js';
import { keysFor } from './auth-keys.js';

export const SESSION_COOKIE = 'session';
export const SESSION_LIFETIME_MS = 14 * 24 * 60 * 60 * 1000;
const ISSUER = 'reader-coop';
const AUDIENCE = 'reader-coop:session';

export interface SessionClaims {
  personId: string;
  sessionVersion: number;
  sessionId: string;
  expiresAt: Date;
}

export interface ResolvedSession {
  claims: SessionClaims;
  person: { id: string; email: string; name: string | null; roles: RoleName[] };
}

type SessionDeps = Pick<AppDeps, 'config' | 'clock'>;

export async function signSessionToken(deps: SessionDeps, person: Pick<Person, 'id' | 'session_version'>): Promise<{ token: string; claims: SessionClaims }> {
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
  const sessionId = randomBytes(16).toString('base64url');
  const token = await new SignJWT({ sv: person.session_version })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(person.id)
    .setJti(sessionId)
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .sign(keysFor(deps.config, 'session').signing);
  return { token, claims: { personId: person.id, sessionVersion: person.session_version, sessionId, expiresAt } };
}

/** The token's claims if it is ours (either key), unexpired and well-formed; otherwise null. */
export async function verifySessionToken(deps: SessionDeps, token: string): Promise<SessionClaims | null> {
  if (token.length > 4096) return null;
  for (const key of keysFor(deps.config, 'session').verifying) {
    try {
      const { payload } = await jwtVerify(token, key, {
        // Only HS256: 'none' and any other algorithm are refused before the signature is looked at.
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: deps.clock.now(),
        requiredClaims: ['sub', 'jti', 'exp', 'iat'],
      });
      const sv = payload.sv;
      if (typeof sv !== 'number' || !Number.isInteger(sv) || typeof payload.sub !== 'string' || typeof payload.jti !== 'string') return null;
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(payload.sub)) return null;
      return { personId: payload.sub, sessionVersion: sv, sessionId: payload.jti, expiresAt: new Date(payload.exp! * 1000) };
    } catch (err) {
      // A signature made with another key: try the previous one. Anything else is final.
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      return null;
    }
  }
  return null;
}

/** The signed-in person behind a session cookie's value, or null (bad, expired, ended or erased). */
export async function resolveSession(deps: SessionDeps & { db: Executor }, token: string): Promise<ResolvedSession | null> {
  const claims = await verifySessionToken(deps, token);
  if (!claims) return null;
  const person = await findSessionPerson(deps.db, claims.personId, claims.sessionId);
  if (!person || person.erased_at || person.session_version !== claims.sessionVersion) return null;
  return { claims, person: { id: person.id, email: person.email, name: person.name, roles: person.roles } };
}

/** Sign out: this session's token is refused from now on, even if someone kept a copy. */
export async function endSession(deps: Pick<AppDeps, 'db' | 'clock'>, claims: SessionClaims): Promise<void> {
  await insertEndedSession(deps.db, {
    sessionId: claims.sessionId,
    personId: claims.personId,
    endedAt: deps.clock.now(),
    expiresAt: claims.expiresAt,
  });
}

/** Sign out everywhere: every token issued so far carries an outdated session version. */
export async function endAllSessions(db: Executor, personId: string): Promise<void> {
  await bumpSessionVersion(db, personId);
}

// ---- the cookie -----------------------------------------------------------

export function sessionCookieHeader(config: Config, token: string, expiresAt: Date, now: Date): string {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
  return cookie(config, `${SESSION_COOKIE}=${token}`, maxAge);
}

export function clearedSessionCookieHeader(config: Config): string {
  return cookie(config, `${SESSION_COOKIE}=`, 0);
}

function cookie(config: Config, pair: string, maxAge: number): string {
  const parts = [pair, 'Path=/', `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Lax'];
  if (config.publicUrl.startsWith('https:')) parts.push('Secure');
  return parts.join('; ');
}

/** The value of the session cookie in a Cookie header, if any. */
export function readSessionCookie(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

/** A URL fit for logs: the values of `token` query parameters replaced. */
export function redactSecretsInUrl(url: string | undefined): string | undefined {
  return url?.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}
