/**
 * People: one record for everyone who pays or signs in (the member record of
 * the shares component hangs off it). Found by our own ids; the email is unique
 * case-insensitively and kept lower-cased.
 */
import type { AppDeps } from '../deps.js';
import { changedFields, recordAudit, type Actor } from '../admin/audit.service.js';
import type { Transaction } from 'kysely';
import type { Executor } from '../db/database.js';
import type { DB, EmailPreferences, Person, PostalAddress, RoleName } from '../db/schema.js';
import { AppError, notFound } from '../lib/errors.js';
import {
  countPeopleWithRole,
  findPersonById,
  findPersonByEmail,
  insertPersonIfMissing,
  searchPeople as searchPeopleRows,
  updatePerson,
} from './people.repository.js';

export type { Person };

export type PeopleErrorCode = 'person_not_found' | 'last_admin' | 'person_erased';

type PeopleDeps = Pick<AppDeps, 'db' | 'clock'>;

/** Emails compare case-insensitively; we keep them trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The person with this email, created if there is none. Safe under concurrency
 * (insert ... on conflict do nothing, then read). A given name fills a missing one
 * but never overwrites a name the person chose.
 */
export async function findOrCreatePersonByEmail(trx: Executor, email: string, name?: string | null): Promise<Person> {
  const normalized = normalizeEmail(email);
  const cleanName = name?.trim() || null;
  await insertPersonIfMissing(trx, normalized, cleanName);
  const person = await findPersonByEmail(trx, normalized);
  if (!person) throw new Error('person vanished right after insert');
  if (cleanName && !person.name) {
    return updatePerson(trx, person.id, { name: cleanName });
  }
  return person;
}

export async function findPerson(db: Executor, id: string): Promise<Person | undefined> {
  return findPersonById(db, id);
}

export async function getPerson(db: Executor, id: string): Promise<Person> {
  const person = await findPersonById(db, id);
  if (!person) throw notFound<PeopleErrorCode>('That person', 'person_not_found');
  return person;
}

/** What a person (or an admin) sees of a person record. */
export interface PersonView {
  id: string;
  email: string;
  name: string | null;
  postalAddress: PostalAddress | null;
  emailPreferences: Required<EmailPreferences>;
  roles: RoleName[];
  createdAt: string;
  lastSignedInAt: string | null;
}

export function personView(person: Person): PersonView {
  return {
    id: person.id,
    email: person.email,
    name: person.name,
    postalAddress: person.postal_address,
    emailPreferences: {
      fundAppeals: person.email_preferences.fundAppeals ?? false,
      societyNews: person.email_preferences.societyNews ?? false,
    },
    roles: [...person.roles].sort(),
    createdAt: person.created_at.toISOString(),
    lastSignedInAt: person.last_signed_in_at?.toISOString() ?? null,
  };
}

export interface DetailsChange {
  name?: string | null;
  postalAddress?: PostalAddress | null;
  emailPreferences?: EmailPreferences;
}

/** The details a person changes themselves ('person.details_changed' audits which of them changed). */
export interface PersonDetails {
  name: string | null;
  postalAddress: PostalAddress | null;
  emailPreferences: Required<EmailPreferences>;
}

/**
 * Told when a person's own details really changed, inside the change's transaction
 * (so a copy kept elsewhere, such as the register of members, moves with it or not at all).
 */
export type PersonDetailsListener = (
  trx: Transaction<DB>,
  actor: Actor,
  personId: string,
  before: PersonDetails,
  after: PersonDetails,
) => Promise<void>;

/** The email address an erased person's records carry: '.invalid' (RFC 2606) is never delivered to. */
export function erasedEmailFor(personId: string): string {
  return `erased-${personId}@erased.invalid`;
}

/**
 * Changes a person's own details, audited with the names of the fields changed; `onChanged` runs in the
 * same transaction after the audit entry, only when something actually changed.
 */
export async function changePersonDetails(
  deps: PeopleDeps,
  actor: Actor,
  personId: string,
  change: DetailsChange,
  onChanged?: PersonDetailsListener,
): Promise<PersonView> {
  return deps.db.transaction().execute(async (trx) => {
    const before = await findPersonById(trx, personId, { forUpdate: true });
    if (!before || before.erased_at) throw notFound<PeopleErrorCode>('That person', 'person_not_found');
    const emailPreferences = change.emailPreferences ? { ...before.email_preferences, ...change.emailPreferences } : undefined;
    const after = await updatePerson(
      trx,
      personId,
      { name: change.name, postalAddress: change.postalAddress, ...(emailPreferences ? { emailPreferences } : {}) },
      deps.clock.now(),
    );
    const beforeView = detailsOf(before);
    const afterView = detailsOf(after);
    if (JSON.stringify(beforeView) !== JSON.stringify(afterView)) {
      // Which fields, not their values: the log is append-only and must hold nothing erasure has to remove.
      await recordAudit(trx, deps.clock, actor, {
        action: 'person.details_changed',
        subjectType: 'person',
        subjectId: personId,
        after: { fields: changedFields({ ...beforeView }, { ...afterView }) },
      });
      await onChanged?.(trx, actor, personId, beforeView, afterView);
    }
    return personView(after);
  });
}

function detailsOf(p: Person): PersonDetails {
  const view = personView(p);
  return { name: view.name, postalAddress: view.postalAddress, emailPreferences: view.emailPreferences };
}

/** An admin grants a role; granting one already held changes nothing and is not audited twice. */
export async function grantRole(deps: PeopleDeps, actor: Actor, personId: string, role: RoleName): Promise<PersonView> {
  return deps.db.transaction().execute(async (trx) => {
    const person = await findPersonById(trx, personId, { forUpdate: true });
    if (!person) throw notFound<PeopleErrorCode>('That person', 'person_not_found');
    if (person.erased_at) {
      throw new AppError<PeopleErrorCode>({ code: 'person_erased', status: 422, message: 'That person asked for their data to be erased.' });
    }
    if (person.roles.includes(role)) return personView(person);
    const after = await updatePerson(trx, personId, { roles: [...person.roles, role].sort() }, deps.clock.now());
    await recordAudit(trx, deps.clock, actor, {
      action: 'person.role_granted',
      subjectType: 'person',
      subjectId: personId,
      before: { roles: person.roles },
      after: { roles: after.roles, granted: role },
    });
    return personView(after);
  });
}

/** An admin revokes a role. The last admin cannot be removed, or nobody could manage roles again. */
export async function revokeRole(deps: PeopleDeps, actor: Actor, personId: string, role: RoleName): Promise<PersonView> {
  return deps.db.transaction().execute(async (trx) => {
    const person = await findPersonById(trx, personId, { forUpdate: true });
    if (!person) throw notFound<PeopleErrorCode>('That person', 'person_not_found');
    if (!person.roles.includes(role)) return personView(person);
    if (role === 'admin' && (await countPeopleWithRole(trx, 'admin')) <= 1) {
      throw new AppError<PeopleErrorCode>({
        code: 'last_admin',
        status: 422,
        message: 'This is the only admin: grant admin to someone else first.',
      });
    }
    const after = await updatePerson(trx, personId, { roles: person.roles.filter((r) => r !== role) }, deps.clock.now());
    await recordAudit(trx, deps.clock, actor, {
      action: 'person.role_revoked',
      subjectType: 'person',
      subjectId: personId,
      before: { roles: person.roles },
      after: { roles: after.roles, revoked: role },
    });
    return personView(after);
  });
}

/** Admin search by email or name. */
export async function searchPeople(db: Executor, query: string | undefined, limit: number): Promise<PersonView[]> {
  return (await searchPeopleRows(db, query, limit)).map(personView);
}
