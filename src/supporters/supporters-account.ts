/**
 * The supporter part of a person's account: `supporter` of GET /api/me, the
 * subscriptions in the data export, the supporter section of /account, and erasure
 * (refused while a subscription still takes money: cancel first, so nobody is
 * charged by a subscription whose receipts could no longer reach them).
 */
import type { AppDeps } from '../deps.js';
import type { AccountContributor } from '../members/account.service.js';
import { erasedEmailFor } from '../members/people.service.js';
import { supporterError } from './supporters.errors.js';
import { forgetThanksForStripePayments } from '../fighting-fund/acknowledgements.js';
import { invoiceKey } from './supporter-events.js';
import { currentSupporterOfPerson, eraseSupportersOfPerson, liveSupportersOfPerson, paidInvoiceIdsOfPerson, supportersOfPerson } from './supporters.repository.js';
import { supporterView } from './supporters.views.js';

export function supportersAccountContributor(deps: Pick<AppDeps, 'config'>): AccountContributor {
  return {
    async parts(db, personId) {
      const s = await currentSupporterOfPerson(db, personId);
      if (!s) return { supporter: null };
      const view = supporterView(s);
      return {
        supporter: {
          status: view.status,
          amount: view.amount,
          interval: view.interval,
          currentPeriodEnd: view.currentPeriodEnd,
          cancelAtPeriodEnd: view.cancelAtPeriodEnd,
          paused: view.paused,
          currency: view.currency,
          pending: view.pending,
        },
      };
    },

    async exportData(db, personId) {
      const all = await supportersOfPerson(db, personId);
      return { supporterSubscriptions: all.map((s) => ({ ...supporterView(s), email: s.email, name: s.name, acknowledge: s.acknowledge, createdAt: s.created_at.toISOString(), startedAt: s.started_at?.toISOString() ?? null, endedAt: s.ended_at?.toISOString() ?? null })) };
    },

    async pageSections(db, personId) {
      const s = await currentSupporterOfPerson(db, personId);
      const view = s ? supporterView(s) : null;
      return [
        {
          template: 'partials/account-supporter',
          vars: {
            supporter: view,
            live: Boolean(view && ['trialing', 'active', 'past_due', 'unpaid', 'paused'].includes(view.status)),
            amountPounds: view ? (view.amount / 100).toFixed(2).replace(/\.00$/, '') : '',
            minimum: deps.config.supporters.min,
          },
        },
      ];
    },

    async onErasure(trx, _actor, personId) {
      if ((await liveSupportersOfPerson(trx, personId)).length > 0) {
        throw supporterError('already_supporting', 409, 'You still have a supporter subscription: please cancel it (on your account page) before asking for erasure, so nothing more is taken.');
      }
      // Their payments stay in the fund; the name they were thanked with on each goes.
      await forgetThanksForStripePayments(trx, (await paidInvoiceIdsOfPerson(trx, personId)).map(invoiceKey));
      const erased = await eraseSupportersOfPerson(trx, personId, erasedEmailFor(personId));
      return { erased: erased > 0 ? [`your name and email address on ${erased} ended supporter subscription(s)`] : [], audit: { supporterSubscriptionsErased: erased } };
    },
  };
}
