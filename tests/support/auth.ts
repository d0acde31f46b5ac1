/**
 * signInAs(app, { email, roles }): a person (created if new) with exactly those
 * roles, and the headers of a signed-in browser: the session cookie and a
 * same-origin Origin (state-changing requests with a cookie need it).
 *
 *   const { personId, headers } = await signInAs(app, { email: 'ann@example.org', roles: ['admin'] });
 *   await app.request('PATCH', '/api/me', { json: {...}, headers });
 *
 * The session is minted by the session service directly; the magic-link flow
 * itself is tested in tests/members.
 */
import type { RoleName } from '../../src/db/schema.js';
import { findOrCreatePersonByEmail } from '../../src/members/people.service.js';
import { SESSION_COOKIE, signSessionToken } from '../../src/members/session.service.js';
import type { TestApp } from './test-app.js';

export interface SignedIn {
  personId: string;
  /** Cookie + Origin: spread into app.request(..., { headers }). */
  headers: Record<string, string>;
  /** The raw session token (the cookie's value). */
  token: string;
}

export async function signInAs(app: TestApp, options: { email: string; name?: string; roles?: RoleName[] }): Promise<SignedIn> {
  const person = await app.db.transaction().execute(async (trx) => {
    const p = await findOrCreatePersonByEmail(trx, options.email, options.name);
    return trx
      .updateTable('people')
      .set({ roles: [...(options.roles ?? [])].sort() })
      .where('id', '=', p.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
  const { token } = await signSessionToken(app.deps, person);
  return { personId: person.id, token, headers: sessionHeaders(app, token) };
}

/** The headers a same-origin browser sends with this session cookie. */
export function sessionHeaders(app: TestApp, token: string): Record<string, string> {
  return { cookie: `${SESSION_COOKIE}=${token}`, origin: new URL(app.config.publicUrl).origin };
}
