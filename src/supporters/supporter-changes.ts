/**
 * A supporter manages their own subscription: PATCH /api/me/supporter, the
 * /account forms and the one-click page reached from emails. Each change is asked
 * of Stripe (outside any transaction) and recorded as pending; the webhook that
 * follows mirrors the new state and clears it (supporter-events.ts).
 *
 * "From the next payment, no surprise charge": an amount change uses
 * proration_behavior 'none' (the next invoice is at the new amount); an interval
 * change also sets trial_end to the end of the period already paid for, because
 * Stripe otherwise starts a new billing cycle, and charges, at once.
 */
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { Supporter, SupporterPendingChange } from '../db/schema.js';
import { paymentProviderError } from '../payments/stripe-errors.js';
import { amountProblem } from './supporter-signup.js';
import { supporterError } from './supporters.errors.js';
import { currentSupporterOfPerson, findSupporter, LIVE_STATUSES, recordPendingChange } from './supporters.repository.js';
import type { SupporterChangeRequest } from './supporters.schemas.js';
import { supporterView, type SupporterView } from './supporters.views.js';

type ChangeDeps = Pick<AppDeps, 'config' | 'clock' | 'logger' | 'db' | 'stripe'>;

/** PATCH /api/me/supporter: changes the signed-in person's current subscription. */
export async function changeMySupporter(deps: ChangeDeps, actor: Actor, personId: string, change: SupporterChangeRequest): Promise<SupporterView> {
  const supporter = await currentSupporterOfPerson(deps.db, personId);
  if (!supporter) throw supporterError('not_a_supporter', 404, 'You do not have a supporter subscription.');
  return changeSupporter(deps, actor, supporter, change);
}

/** The one-click page: changes the subscription the signed link is bound to. */
export async function changeSupporterById(deps: ChangeDeps, actor: Actor, supporterId: string, change: SupporterChangeRequest): Promise<SupporterView> {
  const supporter = await findSupporter(deps.db, supporterId);
  if (!supporter) throw supporterError('not_a_supporter', 404, 'This subscription no longer exists.');
  return changeSupporter(deps, actor, supporter, change);
}

async function changeSupporter(deps: ChangeDeps, actor: Actor, supporter: Supporter, change: SupporterChangeRequest): Promise<SupporterView> {
  if (!supporter.stripe_subscription_id || !LIVE_STATUSES.includes(supporter.status)) {
    throw supporterError('subscription_not_changeable', 409, supporter.status === 'canceled' ? 'This subscription has ended; you can start a new one.' : 'This subscription is not running yet.');
  }
  const params = stripeParams(deps, supporter, change);
  if (Object.keys(params).length === 0) throw supporterError('nothing_to_change', 422, 'That is how your support already stands: nothing to change.');
  const requestedAt = deps.clock.now();
  const key = createHash('sha256')
    .update(JSON.stringify([supporter.id, supporter.change_count, params]))
    .digest('base64url');
  try {
    await deps.stripe.subscriptions.update(supporter.stripe_subscription_id, params, { idempotencyKey: `supporter-change:${key}` });
  } catch (err) {
    throw paymentProviderError(deps.logger, err, { supporterId: supporter.id }, 'nothing was changed');
  }
  const pending: SupporterPendingChange = { ...pendingOf(change, supporter), requestedAt: requestedAt.toISOString() };
  await deps.db.transaction().execute(async (trx) => {
    await recordPendingChange(trx, supporter.id, pending, requestedAt);
    // What was asked, not who the supporter is: amounts and flags only.
    await recordAudit(trx, deps.clock, actor, { action: 'supporter.change_requested', subjectType: 'supporter', subjectId: supporter.id, after: { ...pending } });
  });
  deps.logger.info({ supporterId: supporter.id, change: pending }, 'supporter change asked of Stripe');
  const after = await findSupporter(deps.db, supporter.id);
  return supporterView(after ?? supporter);
}

function pendingOf(change: SupporterChangeRequest, s: Supporter): Omit<SupporterPendingChange, 'requestedAt'> {
  const out: Omit<SupporterPendingChange, 'requestedAt'> = {};
  if (change.amount !== undefined && change.amount !== s.amount) out.amount = change.amount;
  if (change.interval !== undefined && change.interval !== s.interval) out.interval = change.interval;
  if (change.pause !== undefined && change.pause !== s.paused) out.pause = change.pause;
  if (change.cancel !== undefined && change.cancel !== s.cancel_at_period_end) out.cancel = change.cancel;
  return out;
}

function stripeParams(deps: ChangeDeps, s: Supporter, change: SupporterChangeRequest): Stripe.SubscriptionUpdateParams {
  const params: Stripe.SubscriptionUpdateParams = {};
  const amount = change.amount ?? s.amount;
  const interval = change.interval ?? s.interval;
  if (amount !== s.amount || interval !== s.interval) {
    const problem = amountProblem(deps, amount, interval);
    if (problem) throw problem;
    if (!s.stripe_item_id || !s.stripe_product_id) {
      throw supporterError('subscription_not_changeable', 409, 'Your subscription is still being set up; please try again in a minute.');
    }
    params.items = [{ id: s.stripe_item_id, price_data: { currency: s.currency.trim().toLowerCase(), product: s.stripe_product_id, unit_amount: amount, recurring: { interval } } }];
    params.proration_behavior = 'none';
    const periodEnd = s.current_period_end ? Math.floor(s.current_period_end.getTime() / 1000) : null;
    if (interval !== s.interval && periodEnd && periodEnd > Math.floor(deps.clock.now().getTime() / 1000)) params.trial_end = periodEnd;
  }
  if (change.pause !== undefined && change.pause !== s.paused) params.pause_collection = change.pause ? { behavior: 'void' } : '';
  if (change.cancel !== undefined && change.cancel !== s.cancel_at_period_end) params.cancel_at_period_end = change.cancel;
  return params;
}

/** POST /api/me/billing-portal: a Customer Portal session for the person's subscription, returning to /account. */
export async function openBillingPortal(deps: ChangeDeps, personId: string): Promise<{ url: string }> {
  const supporter = await currentSupporterOfPerson(deps.db, personId);
  if (!supporter?.stripe_customer_id) throw supporterError('no_billing_account', 404, 'You do not have a card or invoices with us yet.');
  try {
    const session = await deps.stripe.billingPortal.sessions.create({ customer: supporter.stripe_customer_id, return_url: `${deps.config.publicUrl}/account` });
    return { url: session.url };
  } catch (err) {
    throw paymentProviderError(deps.logger, err, { supporterId: supporter.id }, 'the card and invoices page could not be opened');
  }
}
