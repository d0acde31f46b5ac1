/**
 * The shares part of a person's account (the members component's composition
 * point): `member` and `shares` of GET /api/me, the applications and withdrawal
 * requests in the data export, and the shares section of the /account page.
 * It also keeps the register in step with the person's own changes to their
 * details, and erases from share applications what erasure may erase.
 */
import type { AppDeps } from '../deps.js';
import { listAudit } from '../admin/audit.service.js';
import type { AccountContributor } from '../members/account.service.js';
import { listApplicationsForPerson } from './applications.repository.js';
import { eraseApplicationsOfPerson } from './applications.service.js';
import { longDate } from '../lib/long-dates.js';
import { listMembershipsForPerson } from './register.repository.js';
import { followPersonDetails } from './member-details.js';
import { memberSharesForPerson } from './member-shares.js';

export function sharesAccountContributor(deps: Pick<AppDeps, 'config' | 'clock'>): AccountContributor {
  return {
    async parts(db, personId) {
      const { member, shares } = await memberSharesForPerson({ config: deps.config, db }, personId);
      return { member: member ? { ...member } : null, shares };
    },

    async exportData(db, personId) {
      const applications = await listApplicationsForPerson(db, personId);
      return {
        shareApplications: applications.map((a) => ({
          id: a.id,
          kind: a.applicant_kind,
          name: a.name,
          email: a.email,
          address: { line1: a.address_line1, line2: a.address_line2, town: a.town, postcode: a.postcode, country: a.country },
          dateOfBirth: a.date_of_birth,
          registeredSociety: a.registered_society,
          shares: a.shares,
          amount: a.amount,
          currency: a.currency.trim(),
          status: a.status,
          refusalReason: a.refusal_reason,
          rulesAcceptedAt: a.rules_accepted_at.toISOString(),
          createdAt: a.created_at.toISOString(),
          paidAt: a.paid_at?.toISOString() ?? null,
          erasedAt: a.erased_at?.toISOString() ?? null,
        })),
        // The account's own audit covers the person record; changes to their register entries are filed under the member.
        changesToYourRegisterEntry: await registerAudit(db, personId),
      };
    },

    async pageSections(db, personId) {
      const { member, shares } = await memberSharesForPerson({ config: deps.config, db }, personId);
      const awaiting = await listApplicationsForPerson(db, personId, ['pending', 'processing']);
      return [
        {
          template: 'partials/account-shares',
          vars: {
            member: member && { ...member, admittedOnLong: longDate(member.admittedAt), ceasedOnLong: member.ceasedAt ? longDate(member.ceasedAt) : null },
            shares,
            isMember: Boolean(member && !member.ceasedAt && member.sharesHeld > 0),
            awaiting: awaiting.map((a) => ({ shares: a.shares, amount: a.amount, currency: a.currency.trim(), status: a.status })),
            withdrawals: shares.withdrawals.map((w) => ({ ...w, noticeEndsOnLong: longDate(w.noticeEndsOn) })),
            noticeDays: deps.config.shares.withdrawalNoticeDays,
            minShares: deps.config.shares.minShares,
          },
        },
      ];
    },

    /**
     * A member who is a person: a new name or postal address on their account is their new
     * name or address in the register (followPersonDetails audits it as 'member.details_changed'
     * under the member number, next to the account's own 'person.details_changed' entry with the
     * same request id: two records changed, one entry each). Clearing them on the account leaves
     * the register as it was: the register must always hold a name and an address.
     *
     * An organisation member: nothing follows. The person signed in is the organisation's
     * contact; their own name is not the organisation's registered name, and the postal
     * address on their account is theirs (often a home), not the organisation's registered
     * address; moving the organisation's statutory address to a contact's home because the
     * contact moved house would be wrong. Their email is not changed here either (PATCH
     * /api/me cannot change an email), so the organisation's email for notices stays. An
     * organisation's register details change on its written notice to the society.
     */
    async onPersonDetailsChanged(trx, actor, personId, before, after) {
      const change: Parameters<typeof followPersonDetails>[4] = {};
      if (after.name !== before.name) change.name = after.name;
      if (JSON.stringify(after.postalAddress) !== JSON.stringify(before.postalAddress)) change.postalAddress = after.postalAddress;
      // Only the email preferences changed: nothing in the register does.
      if (Object.keys(change).length === 0) return;
      await followPersonDetails(deps, trx, actor, personId, change);
    },

    /**
     * Erasure: the register entry (kept by law), share transactions and withdrawals stay; the
     * applicant's details go from applications that never led to membership, and the date of
     * birth (not part of the register, only needed for the age check when applying) and
     * email from those that did. Refused while an application's payment is under way.
     */
    async onErasure(trx, _actor, personId) {
      const erased = await eraseApplicationsOfPerson(deps, trx, personId);
      const memberships = await listMembershipsForPerson(trx, personId);
      const erasedLines: string[] = [];
      if (erased.withoutMembership > 0) {
        erasedLines.push(`your name, postal address, email address and date of birth on ${erased.withoutMembership} share application(s) that did not lead to shares`);
      }
      if (erased.withMembership > 0) {
        erasedLines.push(`your date of birth and email address on ${erased.withMembership} share application(s) under which shares were allotted`);
      }
      return {
        paymentRecordIds: (await listApplicationsForPerson(trx, personId)).map((a) => a.id),
        erased: erasedLines,
        kept:
          memberships.length > 0
            ? [
                'your entry in the register of members (number, name, address, email for notices, shares, dates admitted and ceased), ' +
                  'its share transactions and withdrawals, and the name and address on the applications under which shares were allotted: ' +
                  'the law requires the society to keep the register and the record of every member\'s shares',
              ]
            : [],
        audit: {
          shareApplicationsErased: erased.withoutMembership,
          allottedShareApplicationsErased: erased.withMembership,
          registerEntriesKept: memberships.map((m) => m.number),
        },
      };
    },
  };
}

async function registerAudit(db: Parameters<typeof listMembershipsForPerson>[0], personId: string) {
  const memberships = await listMembershipsForPerson(db, personId);
  const entries = [];
  for (const m of memberships) entries.push(...(await listAudit(db, { subjectType: 'member', subjectId: String(m.number), limit: 1000 })));
  return entries
    .sort((a, b) => a.at.getTime() - b.at.getTime() || a.id - b.id)
    .map((a) => ({ at: a.at.toISOString(), action: a.action, actorEmail: a.actor_email, memberNumber: Number(a.subject_id), before: a.before, after: a.after }));
}
