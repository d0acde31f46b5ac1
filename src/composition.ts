/**
 * The composition root's registries: which component acts on a confirmed payment,
 * and which components add to a person's account. app.ts, the job worker and the
 * test harness all build them here, so each runs what production runs.
 */
import type { AppDeps } from './deps.js';
import { donationPaymentHandler } from './donations/donation-payments.js';
import type { AccountContributor } from './members/account.service.js';
import type { PaymentHandlers } from './payments/payment-handlers.js';
import { createSharePaymentHandler } from './shares/share-payments.js';
import { sharesAccountContributor } from './shares/shares-account.js';

/**
 * Who acts on a confirmed payment, by checkout purpose. The webhook inbox's
 * processor and the Stripe-event retry task (tasks.ts) both use this one registry.
 */
export function buildPaymentHandlers(deps: AppDeps): PaymentHandlers {
  const paymentHandlers: PaymentHandlers = {
    donation: donationPaymentHandler(deps),
    share_application: createSharePaymentHandler(deps),
  };
  return paymentHandlers;
}

/**
 * What other components add to a person's account: their parts of GET /api/me
 * (member, shares, supporter), their records in the data export, their sections
 * of the /account page. See AccountContributor in members/account.service.ts.
 */
export function buildAccountContributors(deps: AppDeps): AccountContributor[] {
  const accountContributors: AccountContributor[] = [sharesAccountContributor(deps)];
  return accountContributors;
}
