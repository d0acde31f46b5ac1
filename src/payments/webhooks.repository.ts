/**
 * SQL for the webhook inbox: stripe_events (every event once), the graphile-worker
 * job that applies them, their results and failures.
 */
import { sql } from 'kysely';
import type Stripe from 'stripe';
import type { Executor } from '../db/database.js';
import { isStripeEvent } from './stripe-event-checks.js';

/** The graphile-worker task that applies recorded events; its payload is an array of event ids (a batch job). */
export const APPLY_STRIPE_EVENTS_TASK = 'apply-stripe-events';
/** Retried with graphile-worker's exponential backoff (exp(attempt) seconds) until then: about three days. */
export const APPLY_STRIPE_EVENTS_MAX_ATTEMPTS = 12;
/**
 * Money first: graphile-worker takes jobs by priority (lower first), so under a burst the
 * events' jobs run before the emails and housekeeping they cause (all at the default 0).
 */
export const APPLY_STRIPE_EVENTS_PRIORITY = -10;

export interface NewStripeEvent {
  id: string;
  type: string;
  created: Date;
  livemode: boolean;
  apiVersion: string | null;
  /** The event as JSON text (the verified body as Stripe sent it). */
  payload: string;
  receivedAt: Date;
}

/**
 * Stores the events whose ids are new and adds ONE job that applies them, in one
 * statement (so one transaction: an event is stored if and only if its job is).
 * The id is the key Stripe retries with. Returns the ids this call stored; an id
 * stored before, or by a concurrent statement (ON CONFLICT waits for it), is left out.
 */
export async function recordEvents(db: Executor, events: NewStripeEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const values = sql.join(
    events.map(
      (e) =>
        sql`(${e.id}::text, ${e.type}::text, ${e.created}::timestamptz, ${e.livemode}::boolean, ${e.apiVersion}::text, ${e.payload}::jsonb, ${e.receivedAt}::timestamptz)`,
    ),
  );
  const { rows } = await sql<{ id: string }>`
    with stored as (
      insert into stripe_events (id, type, created, livemode, api_version, payload, received_at)
      values ${values}
      on conflict (id) do nothing
      returning id, created
    ), job as (
      select graphile_worker.add_job(
               identifier => ${APPLY_STRIPE_EVENTS_TASK}::text,
               payload => json_agg(id order by created, id),
               max_attempts => ${APPLY_STRIPE_EVENTS_MAX_ATTEMPTS}::int,
               priority => ${APPLY_STRIPE_EVENTS_PRIORITY}::int) as added
        from stored
      having count(*) > 0
    )
    select id from stored where (select count(*) from job) >= 0`.execute(db);
  return rows.map((r) => r.id);
}

export interface StoredEvent {
  id: string;
  event: Stripe.Event;
  /** The result the event has already (applied before), if any. */
  result: { outcome: 'applied' | 'ignored'; note: string | null } | null;
}

/** The events with these ids, oldest Stripe `created` first, with their results if they have one. No locks. */
export async function findEvents(db: Executor, eventIds: string[]): Promise<StoredEvent[]> {
  if (eventIds.length === 0) return [];
  const rows = await db
    .selectFrom('stripe_events as e')
    .leftJoin('stripe_event_results as r', 'r.event_id', 'e.id')
    .select(['e.id', 'e.payload', 'r.outcome', 'r.note'])
    .where('e.id', 'in', eventIds)
    .orderBy('e.created')
    .orderBy('e.id')
    .execute();
  return rows.map((row) => {
    // The body Stripe signed, verified when it was received; checked again as it comes back.
    if (!isStripeEvent(row.payload)) throw new Error(`stripe event ${row.id} as stored is not a Stripe event`);
    return { id: row.id, event: row.payload, result: row.outcome ? { outcome: row.outcome, note: row.note } : null };
  });
}

/**
 * Holds the events' rows for the rest of the transaction and returns the ids that
 * already have a result. A second attempt at the same event (a job unlocked from an
 * instance thought dead that was not) waits here until the first commits, and then
 * finds its result.
 */
export async function lockEvents(trx: Executor, eventIds: string[]): Promise<Set<string>> {
  await sql`select id from stripe_events where id = any(${eventIds}::text[]) order by id for update`.execute(trx);
  // A statement of its own: after waiting for a lock, READ COMMITTED sees what the holder committed only from the next statement on.
  const done = await trx.selectFrom('stripe_event_results').select('event_id').where('event_id', 'in', eventIds).execute();
  return new Set(done.map((r) => r.event_id));
}

export async function insertEventResults(
  db: Executor,
  results: { eventId: string; outcome: 'applied' | 'ignored'; note: string | null; now: Date }[],
): Promise<void> {
  if (results.length === 0) return;
  await db
    .insertInto('stripe_event_results')
    .values(results.map((r) => ({ event_id: r.eventId, outcome: r.outcome, note: r.note, processed_at: r.now })))
    .execute();
}

export async function insertEventFailure(db: Executor, failure: { eventId: string; error: string; now: Date }): Promise<void> {
  await db.insertInto('stripe_event_failures').values({ event_id: failure.eventId, error: failure.error, failed_at: failure.now }).execute();
}

/**
 * Whether any job applying events is waiting for its first attempt or running now.
 * Jobs that failed and wait for a retry (backing off) do not count: "settled" means
 * applied, or failed into a retry.
 */
export async function hasUnsettledEventJobs(db: Executor): Promise<boolean> {
  const { rows } = await sql<{ one: number }>`
    select 1 as one from graphile_worker.jobs
     where task_identifier = ${APPLY_STRIPE_EVENTS_TASK}
       and (locked_at is not null or attempts = 0)
     limit 1`.execute(db);
  return rows.length > 0;
}
