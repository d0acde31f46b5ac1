/**
 * Reconciliation with Stripe: for a period of local days, lists Stripe's charges,
 * refunds and disputes (paged, outside any transaction) and compares them with
 * what our books hold under the same Stripe ids: the fund's ledger, the share
 * transactions and the money given back on share payments. Three kinds of
 * difference: missing in our books (a webhook that never came), missing in
 * Stripe, and amounts that differ. Each run is kept (reconciliation_runs) for
 * the Today page; a daily job runs yesterday and emails the treasurer when
 * something is off.
 *
 * Repair replays, for each payment, refund or dispute missing in our books, the
 * event Stripe would have sent, through the webhook's own path (recorded with its
 * job, then applied by the same function, appliers and payment handlers): the unique Stripe keys of
 * the bookings and the replayed events' fixed ids make it happen once however
 * often it is pressed.
 */
import { idOf } from '../payments/stripe-ids.js';
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import type { ReconciliationTrigger } from '../db/schema.js';
import { queueEmail } from '../email/outbox.service.js';
import { localDayEnd, localDayStart } from '../fighting-fund/fund-desk.service.js';
import { AppError } from '../lib/errors.js';
import { formatMoney } from '../lib/money.js';
import {
  listStripeActivity,
  replayChargeRefunded,
  replayCheckoutCompleted,
  replayDispute,
  retrieveCharge,
  retrieveCheckoutSession,
  type StripeActivity,
} from '../payments/stripe-activity.js';
import { recordAudit, systemActor, type Actor } from './audit.service.js';
import type { EventReplayer } from '../payments/replay-stripe-events.js';
import * as repo from './reconciliation.repository.js';

type ReconcileDeps = Pick<AppDeps, 'config' | 'clock' | 'db' | 'stripe' | 'logger'>;

export type { EventReplayer };

export type DifferenceKind = 'missing_in_books' | 'missing_in_stripe' | 'amount_differs';

export interface Difference {
  kind: DifferenceKind;
  object: 'payment' | 'refund' | 'dispute' | 'dispute_won';
  /** The Stripe id: pi_.., re_.., dp_.. */
  stripeId: string;
  /** Our booking key, e.g. 'payment:pi_..' */
  key: string;
  stripeAmount: number | null;
  bookedAmount: number | null;
  currency: string;
  at: string;
  /** Repair can book it (missing in our books, from a checkout of ours). */
  repairable: boolean;
  note: string;
}

export interface ReconciliationReport {
  runId: number;
  from: string;
  to: string;
  checkedAt: string;
  clean: boolean;
  stripe: { charges: number; refunds: number; disputes: number; notOurs: number };
  differences: Difference[];
}

const DAY_MS = 86_400_000;
const reconcileError = (message: string, status: 400 | 502 = 400) =>
  new AppError<'invalid_request' | 'payment_provider_unavailable'>({ code: status === 400 ? 'invalid_request' : 'payment_provider_unavailable', status, message });


interface Context {
  checkoutsByPi: Map<string, repo.OurCheckout>;
  checkoutsById: Map<string, repo.OurCheckout>;
}

/** Compares Stripe and our books for the local days `from`..`to`, keeps the run, and reports it. */
export async function reconcile(deps: ReconcileDeps, period: { from: string; to: string }, trigger: ReconciliationTrigger, actor: Actor): Promise<ReconciliationReport> {
  const tz = deps.config.society.timeZone;
  if (period.from > period.to) throw reconcileError('from must not be after to.');
  const start = localDayStart(period.from, tz);
  const end = localDayEnd(period.to, tz);
  if (end.getTime() - start.getTime() > 93 * DAY_MS) throw reconcileError('Reconcile at most three months at a time.');
  const checkedAt = deps.clock.now();

  let activity: StripeActivity;
  try {
    // A day either side: a booking dated just inside the period may answer a Stripe object created just outside it.
    activity = await listStripeActivity(deps, Math.floor((start.getTime() - DAY_MS) / 1000), Math.ceil((end.getTime() + DAY_MS) / 1000));
  } catch (err) {
    deps.logger.warn({ err, period }, 'reconciliation: Stripe did not answer');
    await repo.insertRun(deps.db, { ...period, at: checkedAt, trigger, actorId: actor.id, outcome: 'failed', differences: 0, summary: {}, error: (err as Error).message.slice(0, 500) });
    throw reconcileError('Stripe did not answer, so nothing could be compared. Try again in a minute.', 502);
  }
  const inPeriod = (created: number) => created * 1000 >= start.getTime() && created * 1000 < end.getTime();
  const charges = activity.charges.filter((c) => c.status === 'succeeded' && c.paid && idOf(c.payment_intent));
  const refunds = activity.refunds.filter((r) => (r.status === 'succeeded' || r.status === 'pending') && idOf(r.payment_intent));
  // Inquiries (warning_*) withdraw no funds.
  const disputes = activity.disputes.filter((d) => !d.status.startsWith('warning_') && idOf(d.payment_intent));

  const pis = new Set<string>([...charges, ...refunds, ...disputes].map((o) => idOf(o.payment_intent)!));
  const checkoutIds = charges.map((c) => c.metadata.checkout_id).filter((id): id is string => !!id);
  const [checkouts, refused] = await Promise.all([repo.findCheckouts(deps.db, [...pis], checkoutIds), repo.refusedSharePayments(deps.db, [...pis])]);
  const ctx: Context = {
    checkoutsByPi: new Map(checkouts.filter((c) => c.payment_intent_id).map((c) => [c.payment_intent_id!, c])),
    checkoutsById: new Map(checkouts.map((c) => [c.id, c])),
  };
  const metadataByPi = new Map(charges.map((c) => [idOf(c.payment_intent)!, c.metadata.checkout_id]));
  const ours = (pi: string): repo.OurCheckout | undefined => {
    const byPi = ctx.checkoutsByPi.get(pi);
    if (byPi) return byPi;
    const candidate = ctx.checkoutsById.get(metadataByPi.get(pi) ?? '');
    return candidate && (!candidate.payment_intent_id || candidate.payment_intent_id === pi) ? candidate : undefined;
  };

  interface Expected {
    object: Difference['object'];
    stripeId: string;
    key: string;
    amount: number;
    currency: string;
    created: number;
    pi: string;
  }
  const expected: Expected[] = [];
  let notOurs = 0;
  for (const c of charges) {
    if (!inPeriod(c.created)) continue;
    const pi = idOf(c.payment_intent)!;
    if (!ours(pi)) {
      notOurs++;
      continue;
    }
    if (refused.has(pi)) continue;
    expected.push({ object: 'payment', stripeId: pi, key: `payment:${pi}`, amount: c.amount, currency: c.currency, created: c.created, pi });
  }
  for (const r of refunds) {
    const pi = idOf(r.payment_intent)!;
    if (!inPeriod(r.created) || !ours(pi) || refused.has(pi)) continue;
    expected.push({ object: 'refund', stripeId: r.id, key: `refund:${r.id}`, amount: -r.amount, currency: r.currency, created: r.created, pi });
  }
  for (const d of disputes) {
    const pi = idOf(d.payment_intent)!;
    const checkout = ours(pi);
    if (!inPeriod(d.created) || !checkout || refused.has(pi)) continue;
    // A share payment's register moves only when the dispute is lost; a donation's ledger when funds leave (and come back when won).
    if (checkout.purpose === 'share_application' && d.status !== 'lost') continue;
    expected.push({ object: 'dispute', stripeId: d.id, key: `dispute:${d.id}`, amount: -d.amount, currency: d.currency, created: d.created, pi });
    if (d.status === 'won' && checkout.purpose !== 'share_application') {
      expected.push({ object: 'dispute_won', stripeId: d.id, key: `dispute_won:${d.id}`, amount: d.amount, currency: d.currency, created: d.created, pi });
    }
  }

  const booked = await repo.bookingsByKeys(deps.db, expected.map((e) => e.key));
  const bookedByKey = new Map<string, repo.BookedMoney[]>();
  for (const b of booked) bookedByKey.set(b.key, [...(bookedByKey.get(b.key) ?? []), b]);
  const differences: Difference[] = [];
  for (const e of expected) {
    const found = bookedByKey.get(e.key);
    const base = { object: e.object, stripeId: e.stripeId, key: e.key, stripeAmount: e.amount, currency: e.currency.toUpperCase(), at: new Date(e.created * 1000).toISOString() };
    if (!found) {
      const checkout = ours(e.pi);
      const repairable = e.object !== 'payment' || !!checkout?.stripe_session_id;
      differences.push({ ...base, kind: 'missing_in_books', bookedAmount: null, repairable, note: `in Stripe, not in our books (${checkout?.purpose ?? 'unknown'})` });
      continue;
    }
    // The money as booked: the ledger's entry, or the share transaction (a share payment's return is on both sides of the register).
    const amount = (found.find((f) => f.where === 'ledger') ?? found.find((f) => f.where === 'share_returns') ?? found[0]!).amount;
    if (amount !== e.amount) {
      differences.push({ ...base, kind: 'amount_differs', bookedAmount: amount, repairable: false, note: `Stripe ${e.amount}, our books ${amount}` });
    }
  }

  // Our Stripe bookings of the period that Stripe does not know.
  const known = new Set<string>([
    ...activity.charges.map((c) => `payment:${idOf(c.payment_intent)}`),
    ...activity.refunds.map((r) => `refund:${r.id}`),
    ...activity.disputes.flatMap((d) => [`dispute:${d.id}`, `dispute_won:${d.id}`]),
  ]);
  const ourBookings = await repo.stripeBookingsBetween(deps.db, start, end);
  const seen = new Set<string>();
  for (const b of ourBookings) {
    if (known.has(b.key) || seen.has(b.key)) continue;
    seen.add(b.key);
    const [prefix, id] = b.key.split(':') as [string, string];
    const object = (['payment', 'refund', 'dispute', 'dispute_won'].includes(prefix) ? prefix : 'payment') as Difference['object'];
    differences.push({
      kind: 'missing_in_stripe',
      object,
      stripeId: id,
      key: b.key,
      stripeAmount: null,
      bookedAmount: b.amount,
      currency: deps.config.society.currency,
      at: b.at.toISOString(),
      repairable: false,
      note: `booked (${b.where}) but not found in Stripe for the period`,
    });
  }

  const stripe = { charges: charges.filter((c) => inPeriod(c.created)).length, refunds: refunds.filter((r) => inPeriod(r.created)).length, disputes: disputes.filter((d) => inPeriod(d.created)).length, notOurs };
  const run = await repo.insertRun(deps.db, {
    ...period,
    at: checkedAt,
    trigger,
    actorId: actor.id,
    outcome: differences.length ? 'differences' : 'clean',
    differences: differences.length,
    summary: { stripe, differences: differences.map((d) => ({ kind: d.kind, key: d.key, stripeAmount: d.stripeAmount, bookedAmount: d.bookedAmount })) },
  });
  deps.logger.info({ period, differences: differences.length, ...stripe }, 'reconciliation with Stripe done');
  return { runId: run.id, from: period.from, to: period.to, checkedAt: checkedAt.toISOString(), clean: differences.length === 0, stripe, differences };
}

export interface RepairResult {
  replayed: { eventId: string; type: string; key: string; recorded: 'recorded' | 'duplicate' }[];
  before: ReconciliationReport;
  after: ReconciliationReport;
}

/**
 * Books what Stripe has and our books lack, by replaying the events a missed
 * webhook would have brought through the webhook's inbox; then reconciles again.
 */
export async function repairFromStripe(deps: ReconcileDeps, replayer: EventReplayer, actor: Actor, period: { from: string; to: string }): Promise<RepairResult> {
  const before = await reconcile(deps, period, 'repair', actor);
  const missing = before.differences.filter((d) => d.kind === 'missing_in_books' && d.repairable);
  const events: { event: Stripe.Event; key: string }[] = [];
  try {
    for (const d of missing) events.push(...(await replayEventsFor(deps, d)));
  } catch (err) {
    deps.logger.warn({ err, period }, 'repair: Stripe did not answer');
    throw reconcileError('Stripe did not answer, so nothing was repaired. Try again in a minute.', 502);
  }
  const replayed: RepairResult['replayed'] = [];
  for (const { event, key } of events) {
    const recorded = await replayer.record(event, Buffer.from(JSON.stringify(event)));
    replayed.push({ eventId: event.id, type: event.type, key, recorded });
  }
  await replayer.apply(replayed.map((r) => r.eventId));
  const after = replayed.length ? await reconcile(deps, period, 'repair', actor) : before;
  await deps.db.transaction().execute((trx) =>
    recordAudit(trx, deps.clock, actor, {
      action: 'reconciliation.repaired',
      subjectType: 'reconciliation',
      subjectId: `${period.from}..${period.to}`,
      before: { differences: before.differences.length },
      after: { differences: after.differences.length, replayed: replayed.map((r) => ({ eventId: r.eventId, key: r.key, recorded: r.recorded })) },
    }),
  );
  return { replayed, before, after };
}

async function replayEventsFor(deps: ReconcileDeps, d: Difference): Promise<{ event: Stripe.Event; key: string }[]> {
  switch (d.object) {
    case 'payment': {
      const checkout = (await repo.findCheckouts(deps.db, [d.stripeId], []))[0];
      const charges = await deps.stripe.charges.list({ payment_intent: d.stripeId, limit: 1 });
      const metadataCheckout = charges.data[0]?.metadata.checkout_id;
      const ours = checkout ?? (metadataCheckout ? (await repo.findCheckouts(deps.db, [], [metadataCheckout]))[0] : undefined);
      if (!ours?.stripe_session_id) return [];
      const session = await retrieveCheckoutSession(deps, ours.stripe_session_id);
      if (session.payment_status !== 'paid' && session.payment_status !== 'no_payment_required') return [];
      return [{ event: replayCheckoutCompleted(session, `session_${session.id}`, charges.data[0]?.created ?? session.created), key: d.key }];
    }
    case 'refund': {
      const refund = await deps.stripe.refunds.retrieve(d.stripeId);
      const charge = await retrieveCharge(deps, idOf(refund.charge)!);
      return [{ event: replayChargeRefunded(charge, `refund_${refund.id}`, refund.created), key: d.key }];
    }
    case 'dispute':
    case 'dispute_won': {
      const dispute = await deps.stripe.disputes.retrieve(d.stripeId);
      const events: { event: Stripe.Event; key: string }[] = [{ event: replayDispute('charge.dispute.created', dispute, `dispute_${dispute.id}`), key: d.key }];
      if (dispute.status === 'won' || dispute.status === 'lost') events.push({ event: replayDispute('charge.dispute.closed', dispute, `dispute_closed_${dispute.id}`), key: d.key });
      return events;
    }
  }
}

/** The Today page: recent runs that found something and were not followed by a clean one. */
export function unresolvedReconciliations(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<number> {
  return repo.countUnresolvedRuns(deps.db, new Date(deps.clock.now().getTime() - 7 * DAY_MS));
}

export async function recentRuns(deps: Pick<AppDeps, 'db'>) {
  return (await repo.latestRuns(deps.db, 10)).map((r) => ({
    id: r.id,
    from: r.period_from,
    to: r.period_to,
    at: r.started_at.toISOString(),
    trigger: r.trigger,
    outcome: r.outcome,
    differences: r.differences,
  }));
}

/**
 * The daily job: reconciles yesterday (the society's calendar) and emails the
 * treasurers (or, with none, the admins) when something is off or Stripe did not answer.
 */
export async function reconcileYesterday(deps: ReconcileDeps): Promise<ReconciliationReport | null> {
  const tz = deps.config.society.timeZone;
  const today = localDayStart(localDateOf(deps.clock.now(), tz), tz);
  const day = localDateOf(new Date(today.getTime() - 12 * 3_600_000), tz);
  let report: ReconciliationReport | null = null;
  let failure: string | null = null;
  try {
    report = await reconcile(deps, { from: day, to: day }, 'schedule', systemActor);
  } catch (err) {
    failure = err instanceof AppError ? err.message : String(err);
  }
  if (report?.clean) return report;
  const to = await repo.treasurerAddresses(deps.db);
  if (to.length === 0) {
    deps.logger.warn({ day }, 'reconciliation found something, but there is no treasurer or admin to tell');
    return report;
  }
  const currency = deps.config.society.currency;
  await deps.db.transaction().execute(async (trx) => {
    for (const person of to) {
      await queueEmail(deps, trx, {
        to: person.email,
        personId: person.id,
        template: 'admin/reconciliation-alert',
        dedupeKey: `reconciliation-alert:${day}:${report?.runId ?? 'failed'}:${person.id}`,
        vars: {
          day,
          failure,
          link: `${deps.config.publicUrl}/admin/reconciliation?from=${day}&to=${day}`,
          differences: (report?.differences ?? []).map((d) => ({
            ...d,
            stripe: d.stripeAmount === null ? '—' : formatMoney(d.stripeAmount, currency),
            booked: d.bookedAmount === null ? '—' : formatMoney(d.bookedAmount, currency),
          })),
        },
      });
    }
  });
  return report;
}

function localDateOf(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
