/** SQL for people: everyone who pays or signs in, found by our own ids. */
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { EmailPreferences, Person, PostalAddress, RoleName } from '../db/schema.js';

/** Inserts the person unless someone already has that email (case-insensitively). */
export async function insertPersonIfMissing(db: Executor, email: string, name: string | null): Promise<void> {
  await db
    .insertInto('people')
    .values({ email, name })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
    .execute();
}

export async function findPersonByEmail(db: Executor, email: string): Promise<Person | undefined> {
  return db
    .selectFrom('people')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .executeTakeFirst();
}

export async function findPersonById(db: Executor, id: string, options: { forUpdate?: boolean } = {}): Promise<Person | undefined> {
  let q = db.selectFrom('people').selectAll().where('id', '=', id);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export interface PersonChanges {
  name?: string | null;
  postalAddress?: PostalAddress | null;
  emailPreferences?: EmailPreferences;
  email?: string;
  roles?: RoleName[];
  lastSignedInAt?: Date;
  erasedAt?: Date;
}

/** `now` from the caller's clock; without one (no clock at hand) the database's time. */
export async function updatePerson(db: Executor, id: string, changes: PersonChanges, now?: Date): Promise<Person> {
  return db
    .updateTable('people')
    .set({
      updated_at: now ?? sql<Date>`now()`,
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.postalAddress !== undefined
        ? { postal_address: changes.postalAddress === null ? null : JSON.stringify(changes.postalAddress) }
        : {}),
      ...(changes.emailPreferences !== undefined ? { email_preferences: JSON.stringify(changes.emailPreferences) } : {}),
      ...(changes.email !== undefined ? { email: changes.email } : {}),
      ...(changes.roles !== undefined ? { roles: changes.roles } : {}),
      ...(changes.lastSignedInAt !== undefined ? { last_signed_in_at: changes.lastSignedInAt } : {}),
      ...(changes.erasedAt !== undefined ? { erased_at: changes.erasedAt } : {}),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Ends every session the person has: their tokens carry the old version. */
export async function bumpSessionVersion(db: Executor, id: string): Promise<number> {
  const row = await db
    .updateTable('people')
    .set((eb) => ({ session_version: eb('session_version', '+', 1) }))
    .where('id', '=', id)
    .returning('session_version')
    .executeTakeFirstOrThrow();
  return row.session_version;
}

export async function countPeopleWithRole(db: Executor, role: RoleName): Promise<number> {
  const row = await db
    .selectFrom('people')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(sql<boolean>`${role} = any(roles)`)
    .where('erased_at', 'is', null)
    .executeTakeFirstOrThrow();
  return row.n;
}

export async function searchPeople(db: Executor, query: string | undefined, limit: number): Promise<Person[]> {
  let q = db.selectFrom('people').selectAll().where('erased_at', 'is', null).orderBy('created_at', 'desc').orderBy('id').limit(limit);
  if (query) {
    const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb('email', 'ilike', pattern), eb('name', 'ilike', pattern)]));
  }
  return q.execute();
}
