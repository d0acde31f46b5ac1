/**
 * The composition root's registries: which component acts on a confirmed payment,
 * and which components add to a person's account. app.ts, the job worker and the
 * test harness all build them here, so each runs what production runs.
 */
import type { AppDeps } from './deps.js';
import { donationPaymentHandler } from './donations/donation-payments.js';
import type { AccountContributor } from './members/account.service.js';
import { EventAppliers } from './payments/event-appliers.js';
import type { PaymentHandlers } from './payments/payment-handlers.js';
import { registerPaymentAppliers } from './payments/payment-event-appliers.js';
import { createSharePaymentHandler } from './shares/share-payments.js';
import { sharesAccountContributor } from './shares/shares-account.js';
import { registerSupporterAppliers, supporterPaymentHandler } from './supporters/supporter-events.js';
import { supportersAccountContributor } from './supporters/supporters-account.js';

/**
 * Who acts on a confirmed payment, by checkout purpose. The job applying
 * Stripe events (first try and retries alike) uses this one registry.
 */
export function buildPaymentHandlers(deps: AppDeps): PaymentHandlers {
  const paymentHandlers: PaymentHandlers = {
    donation: donationPaymentHandler(deps),
    share_application: createSharePaymentHandler(deps),
    supporter: supporterPaymentHandler(deps),
  };
  return paymentHandlers;
}

/**
 * What each Stripe event type does (see payments/event-appliers.ts): every
 * component that acts on Stripe events registers its appliers here. The job that
 * applies recorded events (payments/apply-stripe-events.ts) uses this one registry.
 */
export function buildEventAppliers(): EventAppliers {
  const registry = new EventAppliers();
  registerPaymentAppliers(registry);
  registerSupporterAppliers(registry);
  return registry;
}

/**
 * What other components add to a person's account: their parts of GET /api/me
 * (member, shares, supporter), their records in the data export, their sections
 * of the /account page. See AccountContributor in members/account.service.ts.
 */
export function buildAccountContributors(deps: AppDeps): AccountContributor[] {
  const accountContributors: AccountContributor[] = [sharesAccountContributor(deps), supportersAccountContributor(deps)];
  return accountContributors;
}
