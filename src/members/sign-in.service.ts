/**
 * Magic-link sign-in (SPEC 3): a request for a link always answers the same
 * (202) and always does the same work, known email or not: a token is made and a
 * link is emailed. We send links to unknown addresses too — the person record is
 * created when the link is used (SPEC 1: a person record for everyone who signs
 * in), so a mistyped address creates nothing. Tokens are 256 random bits, stored
 * as sha256, single use, valid 15 minutes; using one ends every other unused
 * token for that email.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AppDeps } from '../deps.js';
import { recordAudit, systemActor, type Actor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import { queueEmail } from '../email/outbox.service.js';
import { AppError } from '../lib/errors.js';
import { findPersonByEmail, updatePerson } from './people.repository.js';
import { findOrCreatePersonByEmail, normalizeEmail } from './people.service.js';
import {
  consumeLoginToken,
  countUsableLoginTokens,
  deleteLoginTokensForEmail,
  findUsableLoginToken,
  hitRateLimitWindow,
  insertLoginToken,
  lockSignInAddress,
  pruneSignInRecords,
} from './session.repository.js';
import { endAllSessions, endSession, signSessionToken, type SessionClaims } from './session.service.js';

export type SignInErrorCode = 'rate_limited' | 'invalid_token';

export const LOGIN_TOKEN_LIFETIME_MS = 15 * 60 * 1000;
export const LOGIN_RATE_WINDOW_MS = 15 * 60 * 1000;
/** Unused, unexpired links an address may have waiting before requests for it stop sending more. */
export const LOGIN_LINKS_PER_EMAIL = 5;
export const LOGIN_LIMIT_PER_IP = 20;

type SignInDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'logger'>;

const hash = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * Emails a sign-in link; throws 429 `rate_limited` (details.retryAfterSeconds) past the
 * per-IP limit. An address is never refused: a flood of requests for someone else's
 * address must not lock its owner out (an admin included). Instead, while the address
 * already has LOGIN_LINKS_PER_EMAIL unused, unexpired links waiting in its inbox, no
 * more are made or sent; the answer is the same 202, and the owner signs in with any
 * of the links waiting (each lasts 15 minutes, and using one lets the next request
 * send again). So a flood sends at most that many emails per link lifetime.
 */
export async function requestSignInLink(deps: SignInDeps, input: { email: string; ip: string }): Promise<void> {
  const email = normalizeEmail(input.email);
  await enforceLoginRateLimit(deps, input.ip);

  const token = randomBytes(32).toString('base64url');
  const now = deps.clock.now();
  const sent = await deps.db.transaction().execute(async (trx) => {
    // One request per address at a time decides, so racing requests cannot pass the count together.
    await lockSignInAddress(trx, hash(email));
    if ((await countUsableLoginTokens(trx, email, now)) >= LOGIN_LINKS_PER_EMAIL) return false;
    await insertLoginToken(trx, {
      tokenHash: hash(token),
      email,
      createdAt: now,
      expiresAt: new Date(now.getTime() + LOGIN_TOKEN_LIFETIME_MS),
    });
    // The same lookup for every address; it only decides which record the email is filed under.
    const person = await findPersonByEmail(trx, email);
    await queueEmail(deps, trx, {
      to: email,
      template: 'sign-in',
      personId: person?.id ?? null,
      vars: {
        link: `${deps.config.publicUrl}/auth/callback?token=${token}`,
        minutes: LOGIN_TOKEN_LIFETIME_MS / 60_000,
      },
    });
    return true;
  });
  if (!sent) deps.logger.warn({ ip: input.ip }, 'sign-in link not sent: the address has enough unused links waiting');
}

async function enforceLoginRateLimit(deps: SignInDeps, ip: string): Promise<void> {
  const now = deps.clock.now().getTime();
  const windowStart = new Date(now - (now % LOGIN_RATE_WINDOW_MS));
  // The counter moves on every request, so a flood keeps being counted while refused.
  const byIp = await hitRateLimitWindow(deps.db, `login:ip:${ip}`, windowStart);
  if (byIp > LOGIN_LIMIT_PER_IP) {
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart.getTime() + LOGIN_RATE_WINDOW_MS - now) / 1000));
    deps.logger.warn({ ip, byIp }, 'sign-in link requests rate limited');
    throw new AppError<SignInErrorCode>({
      code: 'rate_limited',
      status: 429,
      message: 'Too many sign-in requests. Please wait a few minutes and try again.',
      details: { retryAfterSeconds },
    });
  }
}

const tokenShape = /^[A-Za-z0-9_-]{43}$/;

/** Whether the link still works, without using it up (the GET a mail scanner may make). */
export async function isSignInTokenUsable(deps: Pick<AppDeps, 'db' | 'clock'>, token: string): Promise<boolean> {
  if (!tokenShape.test(token)) return false;
  return (await findUsableLoginToken(deps.db, hash(token), deps.clock.now())) !== undefined;
}

/**
 * Uses the token up and starts a session for its email's person (created on first
 * sign-in; given admin when the email is in ADMIN_EMAILS). 401 `invalid_token`
 * for a used, expired or unknown token.
 */
export async function completeSignIn(deps: SignInDeps, token: string, requestId: string | null): Promise<{ token: string; claims: SessionClaims }> {
  const invalid = new AppError<SignInErrorCode>({
    code: 'invalid_token',
    status: 401,
    message: 'This sign-in link has been used, has expired or is not valid. Please ask for a new one.',
  });
  if (!tokenShape.test(token)) throw invalid;
  const now = deps.clock.now();
  const person = await deps.db.transaction().execute(async (trx) => {
    const used = await consumeLoginToken(trx, hash(token), now);
    if (!used) return undefined;
    // One link in, every other outstanding link for this address is void.
    await deleteLoginTokensForEmail(trx, used.email, hash(token));
    let person = await findOrCreatePersonByEmail(trx, used.email);
    person = await grantConfiguredAdmin(deps, trx, person, requestId);
    return updatePerson(trx, person.id, { lastSignedInAt: now }, now);
  });
  if (!person) throw invalid;
  deps.logger.info({ personId: person.id }, 'signed in');
  return signSessionToken(deps, person);
}

async function grantConfiguredAdmin<P extends { id: string; email: string; roles: ('admin' | 'treasurer')[] }>(
  deps: SignInDeps,
  trx: Executor,
  person: P,
  requestId: string | null,
) {
  if (!deps.config.auth.adminEmails.includes(person.email) || person.roles.includes('admin')) return person;
  const after = await updatePerson(trx, person.id, { roles: [...person.roles, 'admin'].sort() as P['roles'] }, deps.clock.now());
  await recordAudit(trx, deps.clock, { ...systemActor, requestId }, {
    action: 'person.role_granted',
    subjectType: 'person',
    subjectId: person.id,
    before: { roles: person.roles },
    after: { roles: after.roles, granted: 'admin', source: 'ADMIN_EMAILS' },
  });
  return after;
}

export async function signOut(deps: Pick<AppDeps, 'db' | 'clock'>, claims: SessionClaims | undefined): Promise<void> {
  if (claims) await endSession(deps, claims);
}

/** Ends every session of the person, this one included. */
export async function signOutEverywhere(deps: Pick<AppDeps, 'db' | 'clock'>, actor: Actor, personId: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await endAllSessions(trx, personId);
    await recordAudit(trx, deps.clock, actor, { action: 'person.signed_out_everywhere', subjectType: 'person', subjectId: personId });
  });
}

/** Daily: drops expired tokens, ended sessions past their expiry and old rate-limit windows. */
export async function pruneExpiredSignInRecords(deps: Pick<AppDeps, 'db' | 'clock'>) {
  return pruneSignInRecords(deps.db, deps.clock.now(), 24 * 60 * 60 * 1000);
}
