/**
 * The signed one-click link in every email about a subscription (SPEC 1): a JWT
 * (HS256, the 'signed-link' key derived from AUTH_SECRET) bound to one supporter
 * row, valid 30 days. Opening it (GET) only shows a page; acting needs a POST, so
 * a mail scanner that follows links changes nothing. Each link acts once
 * (signed_link_uses): a replayed link is refused.
 */
import { randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { AppDeps } from '../deps.js';
import { keysFor } from '../members/auth-keys.js';

export const MANAGE_LINK_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
const ISSUER = 'reader-coop';
const AUDIENCE = 'reader-coop:supporter-manage';

type LinkDeps = Pick<AppDeps, 'config' | 'clock'>;

/** A fresh link to manage this subscription: `${PUBLIC_URL}/supporter/manage?token=...`. */
export async function manageLinkFor(deps: LinkDeps, supporterId: string): Promise<string> {
  const now = deps.clock.now();
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(supporterId)
    .setJti(randomBytes(16).toString('base64url'))
    .setIssuedAt(now)
    .setExpirationTime(new Date(now.getTime() + MANAGE_LINK_LIFETIME_MS))
    .sign(keysFor(deps.config, 'signed-link').signing);
  return `${deps.config.publicUrl}/supporter/manage?token=${token}`;
}

export type ManageTokenCheck = { ok: true; supporterId: string; jti: string } | { ok: false; reason: 'invalid' | 'expired' };

/** The supporter a token is bound to, if it is ours, untampered and unexpired. */
export async function verifyManageToken(deps: LinkDeps, token: string): Promise<ManageTokenCheck> {
  if (!token || token.length > 4096) return { ok: false, reason: 'invalid' };
  let expired = false;
  for (const key of keysFor(deps.config, 'signed-link').verifying) {
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, currentDate: deps.clock.now() });
      if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') return { ok: false, reason: 'invalid' };
      return { ok: true, supporterId: payload.sub, jti: payload.jti };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) expired = true;
    }
  }
  return { ok: false, reason: expired ? 'expired' : 'invalid' };
}
