/** SQL for sessions, sign-in tokens and the login rate-limit windows. */
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { Person } from '../db/schema.js';

export async function insertLoginToken(db: Executor, row: { tokenHash: string; email: string; createdAt: Date; expiresAt: Date }) {
  await db
    .insertInto('login_tokens')
    .values({ token_hash: row.tokenHash, email: row.email, created_at: row.createdAt, expires_at: row.expiresAt })
    .execute();
}

/** Uses the token up, atomically: of two requests racing with it, one wins. */
export async function consumeLoginToken(db: Executor, tokenHash: string, now: Date): Promise<{ email: string } | undefined> {
  return db
    .updateTable('login_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('email')
    .executeTakeFirst();
}

export async function findUsableLoginToken(db: Executor, tokenHash: string, now: Date): Promise<{ email: string } | undefined> {
  return db
    .selectFrom('login_tokens')
    .select('email')
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/** Unused, unexpired sign-in links of the address. */
export async function countUsableLoginTokens(db: Executor, email: string, now: Date): Promise<number> {
  const row = await db
    .selectFrom('login_tokens')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('email', '=', email)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Serialises sign-in link requests for one address until the transaction ends. */
export async function lockSignInAddress(db: Executor, addressHash: string) {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`sign-in:${addressHash}`}, 0))`.execute(db);
}

/** The session's person, unless that session was ended (signed out). */
export async function findSessionPerson(db: Executor, personId: string, sessionId: string): Promise<Person | undefined> {
  return db
    .selectFrom('people')
    .selectAll()
    .where('id', '=', personId)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('ended_sessions').select('session_id').where('session_id', '=', sessionId))),
    )
    .executeTakeFirst();
}

export async function insertEndedSession(db: Executor, row: { sessionId: string; personId: string; endedAt: Date; expiresAt: Date }) {
  await db
    .insertInto('ended_sessions')
    .values({ session_id: row.sessionId, person_id: row.personId, ended_at: row.endedAt, expires_at: row.expiresAt })
    .onConflict((oc) => oc.column('session_id').doNothing())
    .execute();
}

/** Counts one more hit in the bucket's window; returns the count including it. */
export async function hitRateLimitWindow(db: Executor, bucket: string, windowStart: Date): Promise<number> {
  const row = await db
    .insertInto('rate_limit_windows')
    .values({ bucket, window_start: windowStart, hits: 1 })
    .onConflict((oc) => oc.columns(['bucket', 'window_start']).doUpdateSet({ hits: sql<number>`rate_limit_windows.hits + 1` }))
    .returning('hits')
    .executeTakeFirstOrThrow();
  return row.hits;
}

export async function pruneSignInRecords(db: Executor, now: Date, keepFor: number) {
  const cutoff = new Date(now.getTime() - keepFor);
  const tokens = await db.deleteFrom('login_tokens').where('expires_at', '<', cutoff).executeTakeFirst();
  const sessions = await db.deleteFrom('ended_sessions').where('expires_at', '<', now).executeTakeFirst();
  const windows = await db.deleteFrom('rate_limit_windows').where('window_start', '<', cutoff).executeTakeFirst();
  return {
    tokens: Number(tokens.numDeletedRows),
    endedSessions: Number(sessions.numDeletedRows),
    rateLimitWindows: Number(windows.numDeletedRows),
  };
}

/** Voids the email's other unused tokens (the one just used stays, marked used). */
export async function deleteLoginTokensForEmail(db: Executor, email: string, exceptHash: string) {
  await db.deleteFrom('login_tokens').where('email', '=', email).where('used_at', 'is', null).where('token_hash', '!=', exceptHash).execute();
}

/** Erasure: no trace of the address in sign-in tokens, used or not. */
export async function deleteAllLoginTokensForEmail(db: Executor, email: string) {
  await db.deleteFrom('login_tokens').where('email', '=', email).execute();
}
