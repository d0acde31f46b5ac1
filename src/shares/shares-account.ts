/**
 * The shares part of a person's account (the members component's composition
 * point): `member` and `shares` of GET /api/me, the applications and withdrawal
 * requests in the data export, and the shares section of the /account page.
 */
import type { AppDeps } from '../app.js';
import type { AccountContributor } from '../members/account.service.js';
import { listApplicationsForPerson } from './applications.repository.js';
import { longDate } from './certificate.js';
import { memberSharesForPerson } from './register.service.js';

export function sharesAccountContributor(deps: Pick<AppDeps, 'config'>): AccountContributor {
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
        })),
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
  };
}
