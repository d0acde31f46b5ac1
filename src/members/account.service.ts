/**
 * The signed-in person's own account: GET/PATCH /api/me, the /account page,
 * the data export and erasure.
 *
 * Composition point: the member, shares and supporter parts belong to other
 * components. Each supplies an AccountContributor (registered by the composition
 * root, composition.ts's `buildAccountContributors`), which fills its part of GET /api/me, adds its records
 * to the export and its sections to the /account page. Until one does, the
 * parts are empty: member null, shares { held: 0, paid: 0, transactions: [] },
 * supporter null. Contributors also follow the person's own changes (details,
 * erasure) inside this component's transactions, so copies they keep (the
 * register of members) move with the person record or not at all; this
 * component never needs to know what those copies are.
 */
import type { Transaction } from 'kysely';
import type { AppDeps } from '../deps.js';
import { listAudit, recordAudit, type Actor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { anonymiseDonationsOfPerson, donationRecordsOfPerson, donationsOfPerson, type DonationSummary } from '../donations/donor-history.service.js';
import { emailsForPerson, redactEmailsOfPerson } from '../email/outbox.service.js';
import { AppError, notFound } from '../lib/errors.js';
import type { DetailsForm, UpdateMeRequest } from './account.schemas.js';
import { bumpSessionVersion, countPeopleWithRole, findPersonById, updatePerson } from './people.repository.js';
import {
  changePersonDetails,
  erasedEmailFor,
  personView,
  type PeopleErrorCode,
  type PersonDetails,
  type PersonDetailsListener,
  type PersonView,
} from './people.service.js';
import { redactStripeEventsAbout } from '../payments/payload-redaction.service.js';
import { deleteAllLoginTokensForEmail } from './session.repository.js';

export interface SharesSummary {
  held: number;
  paid: number;
  transactions: unknown[];
}

export interface AccountParts {
  member: Record<string, unknown> | null;
  shares: SharesSummary;
  supporter: Record<string, unknown> | null;
}

export interface AccountPageSection {
  /** A template under templates/ (e.g. 'partials/account-shares'), rendered with `vars`. */
  template: string;
  vars?: Record<string, unknown>;
}

/** What another component adds to a person's account. Every hook is optional. */
export interface AccountContributor {
  /** Fills `member`, `shares` and/or `supporter` of GET /api/me (and of the export). */
  parts?(db: Executor, personId: string): Promise<Partial<AccountParts>>;
  /** More records for GET /api/me/export, by name (applications, withdrawals, ...). */
  exportData?(db: Executor, personId: string): Promise<Record<string, unknown>>;
  /** Sections of the /account page, shown in order below the donations. */
  pageSections?(db: Executor, personId: string): Promise<AccountPageSection[]>;
  /**
   * The person changed their own name, postal address or preferences (PATCH /api/me, the
   * /account form). Runs inside that change's transaction, after its 'person.details_changed'
   * audit entry; throwing undoes the whole change. A contributor that changes a record of
   * its own audits that change itself, with that record as the subject.
   */
  onPersonDetailsChanged?(trx: Transaction<DB>, actor: Actor, personId: string, before: PersonDetails, after: PersonDetails): Promise<void>;
  /**
   * The person asked for erasure. Runs inside the erasure's transaction before anything is
   * erased; throwing (e.g. a 409 while a payment is under way) refuses the whole erasure.
   * Says what it erased and kept, for the answer; `audit` (counts, never personal
   * details) joins the 'person.erased' audit entry.
   */
  // A contributor with nothing to add simply returns: `void` here lets it be a plain async function.
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  onErasure?(trx: Transaction<DB>, actor: Actor, personId: string): Promise<ErasureContribution | void>;
}

export interface ErasureContribution {
  erased?: string[];
  kept?: string[];
  audit?: Record<string, unknown>;
  /** Ids of the contributor's records paid through Stripe (applications, subscriptions...): their stored Stripe events lose their personal fields. */
  paymentRecordIds?: string[];
}

export interface MeView extends AccountParts {
  person: PersonView;
  donations: DonationSummary[];
}

type AccountDeps = Pick<AppDeps, 'db' | 'clock' | 'config'>;

export async function getMe(deps: AccountDeps, contributors: readonly AccountContributor[], personId: string): Promise<MeView> {
  const person = await findPersonById(deps.db, personId);
  if (!person || person.erased_at) throw notFound<PeopleErrorCode>('That person', 'person_not_found');
  const parts: AccountParts = { member: null, shares: { held: 0, paid: 0, transactions: [] }, supporter: null };
  for (const contributor of contributors) Object.assign(parts, await contributor.parts?.(deps.db, personId));
  return { person: personView(person), ...parts, donations: await donationsOfPerson(deps.db, personId) };
}

export async function updateMe(
  deps: AccountDeps,
  contributors: readonly AccountContributor[],
  actor: Actor,
  personId: string,
  change: UpdateMeRequest,
): Promise<MeView> {
  await changePersonDetails(deps, actor, personId, change, detailsListener(contributors));
  return getMe(deps, contributors, personId);
}

function detailsListener(contributors: readonly AccountContributor[]): PersonDetailsListener {
  return async (trx, actor, personId, before, after) => {
    for (const contributor of contributors) await contributor.onPersonDetailsChanged?.(trx, actor, personId, before, after);
  };
}

export type DetailsFormResult =
  | { ok: true }
  | { ok: false; errors: Record<string, string>; values: DetailsForm };

/** The /account details form: all address fields or none; checkboxes are the preferences. */
export async function submitDetailsForm(
  deps: AccountDeps,
  contributors: readonly AccountContributor[],
  actor: Actor,
  personId: string,
  form: DetailsForm,
): Promise<DetailsFormResult> {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  if (name.length > 200) errors.name = 'Your name is too long (200 characters at most).';
  const address = { line1: form.line1.trim(), line2: form.line2.trim(), town: form.town.trim(), postcode: form.postcode.trim(), country: form.country.trim() };
  const required = { line1: address.line1, town: address.town, postcode: address.postcode, country: address.country };
  const anyAddress = Object.values(address).some((v) => v !== '');
  if (anyAddress) {
    for (const [field, value] of Object.entries(required)) if (value === '') errors[field] = 'Please fill this in, or leave the whole address empty.';
    for (const [field, value] of Object.entries(address)) if (value.length > 200) errors[field] = 'This is too long.';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors, values: form };
  await changePersonDetails(deps, actor, personId, {
    name: name === '' ? null : name,
    postalAddress: anyAddress ? { ...address, line2: address.line2 === '' ? null : address.line2 } : null,
    emailPreferences: { fundAppeals: form.fundAppeals === 'on', societyNews: form.societyNews === 'on' },
  }, detailsListener(contributors));
  return { ok: true };
}

/** The /account page's data. */
export async function accountPageData(deps: AccountDeps, contributors: readonly AccountContributor[], personId: string) {
  const me = await getMe(deps, contributors, personId);
  const sections: AccountPageSection[] = [];
  for (const contributor of contributors) sections.push(...((await contributor.pageSections?.(deps.db, personId)) ?? []));
  return { me, sections };
}

/** Everything held about the person, as one JSON document (GET /api/me/export). */
export async function exportMyData(deps: AccountDeps, contributors: readonly AccountContributor[], personId: string) {
  const me = await getMe(deps, contributors, personId);
  const extras: Record<string, unknown> = {};
  for (const contributor of contributors) Object.assign(extras, await contributor.exportData?.(deps.db, personId));
  const [donations, emails, aboutYou, byYou] = await Promise.all([
    donationRecordsOfPerson(deps.db, personId),
    emailsForPerson(deps.db, personId),
    listAudit(deps.db, { subjectType: 'person', subjectId: personId, limit: 1000 }),
    listAudit(deps.db, { actorId: personId, limit: 1000 }),
  ]);
  const audit = (rows: typeof aboutYou) =>
    rows.map((a) => ({ at: a.at.toISOString(), action: a.action, actorEmail: a.actor_email, subjectType: a.subject_type, subjectId: a.subject_id, before: a.before, after: a.after }));
  return {
    exportedAt: deps.clock.now().toISOString(),
    controller: { name: deps.config.society.name, address: deps.config.society.address },
    person: me.person,
    member: me.member,
    shares: me.shares,
    supporter: me.supporter,
    donations,
    emailsSentToYou: emails,
    changesToYourRecord: audit(aboutYou),
    actionsYouTook: audit(byYou),
    ...extras,
  };
}

export const ERASURE_MESSAGE =
  'We have erased your name, postal address, email address and preferences from your account and, where the law allows, ' +
  'from your other records (donations, share applications), ' +
  'and the contents of the emails we sent you, and signed you out everywhere. ' +
  'The register of members must be kept: the law (the Co-operative and Community Benefit Societies Act 2014) requires the society ' +
  'to keep every member\'s and former member\'s entry in the register, so if you are or were a member, that entry stays. ' +
  'The amounts and dates of payments stay in the accounts, as the law on keeping accounts requires, without your name.';

/**
 * Erases what the society may erase (POST /api/me/erasure). The person record
 * stays as an anonymous stub so the ledger, register and audit links hold.
 */
export async function eraseMe(deps: AccountDeps, contributors: readonly AccountContributor[], actor: Actor, personId: string) {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const person = await findPersonById(trx, personId, { forUpdate: true });
    if (!person || person.erased_at) throw notFound<PeopleErrorCode>('That person', 'person_not_found');
    if (person.roles.includes('admin') && (await countPeopleWithRole(trx, 'admin')) <= 1) {
      throw new AppError<PeopleErrorCode>({
        code: 'last_admin',
        status: 422,
        message: 'You are the only admin: grant admin to someone else before asking for erasure.',
      });
    }
    // First, so a contributor that must refuse (money still on its way) does so before anything changes.
    const contributions: ErasureContribution[] = [];
    for (const contributor of contributors) {
      const contribution = await contributor.onErasure?.(trx, actor, person.id);
      if (contribution) contributions.push(contribution);
    }
    // '.invalid' is reserved (RFC 2606): nothing is ever delivered there, and the outbox skips it.
    const placeholder = erasedEmailFor(person.id);
    await deleteAllLoginTokensForEmail(trx, person.email);
    await updatePerson(
      trx,
      person.id,
      { name: null, postalAddress: null, emailPreferences: {}, email: placeholder, roles: [], erasedAt: now },
      now,
    );
    await bumpSessionVersion(trx, person.id);
    const donations = await anonymiseDonationsOfPerson(trx, person.id, placeholder);
    const emails = await redactEmailsOfPerson(trx, person.id, person.email, placeholder);
    const stripeEvents = await redactStripeEventsAbout(trx, now, {
      recordIds: [...donations.donationIds, ...contributions.flatMap((c) => c.paymentRecordIds ?? [])],
      email: person.email,
    });
    // No personal details in the audit entry: that would undo the erasure.
    await recordAudit(trx, deps.clock, actor, {
      action: 'person.erased',
      subjectType: 'person',
      subjectId: person.id,
      after: {
        erasedAt: now.toISOString(),
        donationsAnonymised: donations.donationIds.length,
        stripeEventsRedacted: stripeEvents,
        acknowledgementsRemoved: donations.acknowledgements,
        emailsRedacted: emails,
        rolesRemoved: person.roles,
        ...Object.assign({}, ...contributions.map((c) => c.audit ?? {})),
      },
    });
    return {
      erased: [
        'your name, postal address, email address and email preferences',
        `your name, town and email address on ${donations.donationIds.length} donation record(s)`,
        `your name, email and address in ${stripeEvents} payment notice(s) we kept from Stripe (their amounts and references stay)`,
        `your name and town on ${donations.acknowledgements} public acknowledgement(s) of a gift (the amounts stay in the fund, without a name)`,
        `the contents and recipient of ${emails} email(s) we sent you`,
        'your roles and every session (you are signed out everywhere)',
        ...contributions.flatMap((c) => c.erased ?? []),
      ],
      kept: [
        'your entry in the register of members, if you are or were a member: the law requires the society to keep the register',
        'the amounts, dates and references of payments, in the accounts and the fighting-fund ledger (without your contact details)',
        'the audit log of changes made to records (who acted, what, which fields, when: never the values)',
        ...contributions.flatMap((c) => c.kept ?? []),
      ],
      message: ERASURE_MESSAGE,
    };
  });
}
