/**
 * Applying recorded Stripe events: the graphile-worker task `apply-stripe-events`.
 *
 * POST /webhooks/stripe stores each event with a job naming it, in one statement
 * (webhooks.repository.ts recordEvents; deliveries arriving together share one
 * job). graphile-worker runs these jobs on every instance (its own concurrency,
 * LISTEN/NOTIFY to start at once), and this task applies the job's events:
 *
 * 1. loads them; those with a result already are done;
 * 2. PREPARES each outside any transaction (the Stripe look-ups its applier needs);
 * 3. applies them all in ONE transaction that locks their stripe_events rows, runs
 *    each applier and writes each result row (stripe_event_results, keyed by the
 *    event id): an event's effects and its result commit together, so it is
 *    applied exactly once however often its job runs;
 * 4. when that transaction fails, applies them one per transaction, so only the
 *    failing event fails.
 *
 * The task returns one promise per event (graphile-worker's batch jobs): the job
 * is retried with backoff holding only the events that failed, through this same
 * path. Failures are also written to stripe_event_failures for the treasurer.
 */
import type { Task } from 'graphile-worker';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { withOneSendJob } from '../email/outbox.service.js';
import { invalidateFundCache } from '../fighting-fund/fund-cache.js';
import type { EventAppliers, EventOutcome, PreparedEvent } from './event-appliers.js';
import type { PaymentHandlers } from './payment-handlers.js';
import { findEvents, hasUnsettledEventJobs, insertEventFailure, insertEventResults, lockEvents, type StoredEvent } from './webhooks.repository.js';

const payloadSchema = z.array(z.string().min(1)).min(1);

export interface EventApplication {
  appliers: EventAppliers;
  handlers: PaymentHandlers;
}

/** The task: the payload is the ids of the events to apply. */
export function applyStripeEventsTask(deps: AppDeps, application: EventApplication): Task {
  return async (payload) => {
    const eventIds = payloadSchema.parse(payload);
    const results = await applyStripeEvents(deps, application, eventIds);
    // graphile-worker keeps only the rejected entries of a batch job for its retry.
    return eventIds.map((id) => {
      const result = results.get(id);
      return result instanceof Error || !result ? Promise.reject(result ?? new Error(`stripe event ${id} is not in the inbox`)) : Promise.resolve();
    });
  };
}

type Result = (EventOutcome & { duplicate: boolean }) | Error;

/** Applies the events with these ids; each id maps to its outcome or to the error it failed with. */
export async function applyStripeEvents(deps: AppDeps, application: EventApplication, eventIds: string[]): Promise<Map<string, Result>> {
  const results = new Map<string, Result>();
  const stored = new Map((await findEvents(deps.db, eventIds)).map((s) => [s.id, s]));
  const storedOf = (id: string) => stored.get(id)!;
  const prepared: PreparedEvent[] = [];
  for (const s of stored.values()) {
    if (s.result) {
      results.set(s.id, { ...s.result, duplicate: true });
      continue;
    }
    try {
      prepared.push(await application.appliers.prepare({ deps }, s.event));
    } catch (err) {
      results.set(s.id, await recordFailure(deps, s, err));
    }
  }
  if (prepared.length === 0) return results;

  let outcomes: Map<string, EventOutcome & { duplicate: boolean }>;
  try {
    outcomes = await applyTogether(deps, application.handlers, prepared);
  } catch (err) {
    if (prepared.length === 1) {
      results.set(prepared[0]!.event.id, await recordFailure(deps, storedOf(prepared[0]!.event.id), err));
      return results;
    }
    // One of them failed the transaction: each on its own, so only that one fails.
    outcomes = new Map();
    for (const p of prepared) {
      try {
        for (const [id, outcome] of await applyTogether(deps, application.handlers, [p])) outcomes.set(id, outcome);
      } catch (oneErr) {
        results.set(p.event.id, await recordFailure(deps, storedOf(p.event.id), oneErr));
      }
    }
  }
  let booked = false;
  for (const [id, outcome] of outcomes) {
    results.set(id, outcome);
    booked ||= outcome.outcome === 'applied' && !outcome.duplicate;
    const { type } = storedOf(id).event;
    deps.logger.info({ eventId: id, type, outcome: outcome.outcome, note: outcome.note, duplicate: outcome.duplicate }, 'stripe event processed');
    if (!outcome.duplicate) deps.metrics?.stripeEvents.inc({ type, outcome: outcome.outcome });
  }
  // After the commit, never before: a reader in between would cache figures without the new entries.
  if (booked) invalidateFundCache();
  return results;
}

/** One transaction: locks the events, applies those still without a result, writes their results. */
async function applyTogether(deps: AppDeps, handlers: PaymentHandlers, prepared: PreparedEvent[]) {
  return deps.db.transaction().execute(async (trx) => {
    const outcomes = new Map<string, EventOutcome & { duplicate: boolean }>();
    const done = await lockEvents(
      trx,
      prepared.map((p) => p.event.id),
    );
    const now = deps.clock.now();
    const fresh: { eventId: string; outcome: 'applied' | 'ignored'; note: string | null; now: Date }[] = [];
    // The receipts and notices these events queue share one send job.
    await withOneSendJob(trx, async () => {
      for (const p of prepared) {
        if (done.has(p.event.id)) {
          // Applied meanwhile by another attempt (whose job was unlocked while it still ran).
          outcomes.set(p.event.id, { outcome: 'applied', note: 'applied by another attempt', duplicate: true });
          continue;
        }
        const outcome = await p.apply({ deps, trx, handlers });
        outcomes.set(p.event.id, { ...outcome, duplicate: false });
        fresh.push({ eventId: p.event.id, outcome: outcome.outcome, note: outcome.note, now });
      }
    });
    await insertEventResults(trx, fresh);
    return outcomes;
  });
}

async function recordFailure(deps: AppDeps, stored: StoredEvent, err: unknown): Promise<Error> {
  const error = err instanceof Error ? err : new Error(String(err));
  deps.logger.warn({ err: error, eventId: stored.id, type: stored.event.type }, 'stripe event failed; its job retries it with backoff');
  deps.metrics?.stripeEvents.inc({ type: stored.event.type, outcome: 'failed' });
  try {
    await insertEventFailure(deps.db, { eventId: stored.id, error: `${error.name}: ${error.message}`.slice(0, 2000), now: deps.clock.now() });
  } catch (writeErr) {
    deps.logger.error({ err: writeErr, eventId: stored.id }, 'could not record the failure of a stripe event');
  }
  // What graphile-worker keeps as the job's last_error: which event, and why.
  return new Error(`stripe event ${stored.id} (${stored.event.type}): ${error.message}`, { cause: error });
}

/**
 * Resolves when every recorded event has been applied or has failed into a retry
 * (no job applying events is waiting for its first attempt or running): what the
 * tests and the sandbox's "settled" wait for. A worker must be running somewhere.
 */
export async function waitForStripeEvents(deps: Pick<AppDeps, 'db'>, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
  const giveUpAt = Date.now() + (options.timeoutMs ?? 30_000);
  while (await hasUnsettledEventJobs(deps.db)) {
    if (Date.now() > giveUpAt) throw new Error('stripe events are still waiting to be applied after 30 s: is a job worker running?');
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}
