/**
 * Becoming a supporter (POST /api/supporters, the /support and /donate forms):
 * the supporter row is recorded as 'incomplete' and the reader is sent to Stripe
 * Checkout in subscription mode. Nothing is mirrored or booked here; Stripe's
 * webhooks do that (supporter-events.ts).
 *
 * Privacy (SPEC 1): only a reader signed in as themselves learns that they already
 * support the paper (409 already_supporting). For anyone else a second sign-up goes
 * ahead exactly like a first; once it is live, the address is emailed that it now
 * has two subscriptions, with a one-click link to end one.
 */
import type { AppDeps } from '../deps.js';
import type { SupporterInterval } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { formatMoney, parseMajorUnits } from '../lib/money.js';
import { findOrCreatePersonByEmail, normalizeEmail } from '../members/people.service.js';
import { createCheckout } from '../payments/checkout.service.js';
import { supporterError, type SupporterErrorCode } from './supporters.errors.js';
import { insertSupporter, liveSupportersOfPerson } from './supporters.repository.js';
import { supporterRequest, type SupporterForm, type SupporterRequest } from './supporters.schemas.js';

type SignupDeps = AppDeps;

/** POST /api/supporters: records the supporter and opens the subscription's Checkout Session. */
export async function startSupporter(deps: SignupDeps, input: SupporterRequest, signedInPersonId: string | null): Promise<{ id: string; checkoutUrl: string }> {
  const problem = amountProblem(deps, input.amount, input.interval);
  if (problem) throw problem;
  if (input.acknowledge && !input.name) throw supporterError('acknowledgement_needs_name', 422, 'To be thanked by name, please tell us your name.', { field: 'name' });
  if (signedInPersonId) {
    // Only the signed-in person's own subscriptions are looked at: this answer reveals nothing about anyone else.
    const live = await liveSupportersOfPerson(deps.db, signedInPersonId);
    if (live.length > 0) {
      throw supporterError('already_supporting', 409, 'You already support the paper. You can change your amount or how often you give on your account page.', {
        manage: '/account#supporter',
      });
    }
  }
  const now = deps.clock.now();
  const currency = deps.config.society.currency;
  const supporter = await deps.db.transaction().execute(async (trx) => {
    const email = normalizeEmail(input.email);
    const person = await findOrCreatePersonByEmail(trx, email, input.name);
    return insertSupporter(trx, {
      personId: person.id,
      email,
      name: input.name,
      acknowledge: input.acknowledge,
      amount: input.amount,
      currency,
      interval: input.interval,
      now,
    });
  });
  const { url } = await createCheckout(deps, {
    purpose: 'supporter',
    recordId: supporter.id,
    mode: 'subscription',
    recurring: { interval: input.interval },
    amount: supporter.amount,
    currency,
    lineItems: [{ name: `${input.interval === 'month' ? 'Monthly' : 'Yearly'} support for ${deps.config.society.name}`, quantity: 1, unitAmount: supporter.amount }],
    customerEmail: supporter.email,
    successPath: '/checkout/success',
    cancelPath: '/support',
  });
  deps.logger.info({ supporterId: supporter.id, interval: input.interval, amount: input.amount }, 'supporter checkout started');
  return { id: supporter.id, checkoutUrl: url };
}

export type SupporterFormResult =
  | { ok: true; checkoutUrl: string }
  | { ok: false; status: 409 | 422; errors: Record<string, string>; values: SupporterForm; acknowledge: boolean };

/** The /support form (and the monthly / yearly choice of /donate): amount in pounds, problems per field. */
export async function submitSupporterForm(deps: SignupDeps, form: SupporterForm, signedInPersonId: string | null): Promise<SupporterFormResult> {
  const errors: Record<string, string> = {};
  const acknowledge = ['on', 'true', 'yes', '1'].includes((form.acknowledge ?? '').toLowerCase());
  const interval: SupporterInterval = form.interval === 'year' ? 'year' : 'month';
  const amount = parseMajorUnits(form.amount);
  const amountError = amount === null || amount <= 0 ? 'Please give an amount in pounds, such as 5 or 7.50.' : amountProblem(deps, amount, interval)?.message;
  if (amountError) errors.amount = amountError;
  const parsed = supporterRequest.safeParse({ amount: amount ?? 1, interval, email: form.email.trim(), name: form.name?.trim() || undefined, acknowledge });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? 'form');
      if (field === 'amount') continue;
      errors[field] ??= field === 'email' ? 'Please give an email address for your receipts.' : field === 'name' ? 'Please tell us your name.' : issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, status: 422, errors, values: form, acknowledge };
  try {
    const { checkoutUrl } = await startSupporter(deps, parsed.data, signedInPersonId);
    return { ok: true, checkoutUrl };
  } catch (err) {
    if (err instanceof AppError && (err.status === 422 || err.status === 409)) {
      const field = (err.details as { field?: string } | undefined)?.field ?? 'form';
      return { ok: false, status: err.status, errors: { [field]: err.message }, values: form, acknowledge };
    }
    throw err;
  }
}

/** Why the society cannot take this amount per interval, if it cannot. */
export function amountProblem(deps: Pick<AppDeps, 'config'>, amount: number, interval: SupporterInterval): AppError<SupporterErrorCode> | undefined {
  const { min, max } = deps.config.supporters;
  const currency = deps.config.society.currency;
  const per = interval === 'month' ? 'a month' : 'a year';
  if (amount < min[interval]) {
    return supporterError('amount_below_minimum', 422, `The smallest amount we can take is ${formatMoney(min[interval], currency)} ${per}.`, { field: 'amount', minimum: min[interval] });
  }
  if (amount > max) {
    return supporterError('amount_above_maximum', 422, `The largest amount we can take is ${formatMoney(max, currency)} ${per}. Please get in touch to give more.`, { field: 'amount', maximum: max });
  }
  return undefined;
}
