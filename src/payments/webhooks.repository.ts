/**
 * SQL for the webhook inbox: stripe_events (every event once), its work queue,
 * its results and failures.
 */
import type Stripe from 'stripe';
import type { Executor } from '../db/database.js';

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
 * Stores the events whose ids are new, each with its queue row, in one statement
 * (the id is the key Stripe retries with). Returns the ids this call stored; an id
 * stored before, or by a concurrent statement (ON CONFLICT waits for it), is left out.
 */
export async function recordEvents(db: Executor, events: NewStripeEvent[]): Promise<string[]> {
  const rows = await db
    .with('stored', (qb) =>
      qb
        .insertInto('stripe_events')
        .values(
          events.map((e) => ({
            id: e.id,
            type: e.type,
            created: e.created,
            livemode: e.livemode,
            api_version: e.apiVersion,
            payload: e.payload,
            received_at: e.receivedAt,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .returning(['id', 'created']),
    )
    .insertInto('stripe_event_queue')
    .columns(['event_id', 'created'])
    .expression((eb) => eb.selectFrom('stored').select(['stored.id', 'stored.created']))
    .returning('event_id')
    .execute();
  return rows.map((r) => r.event_id);
}

export interface ClaimedEvent {
  event: Stripe.Event;
  /** The result the event already has (applied before, by the retry job), if any. */
  result: { outcome: 'applied' | 'ignored'; note: string | null } | null;
}

/**
 * Takes up to `limit` of the oldest queued events (by Stripe's `created`) that no
 * other transaction holds, removing their queue rows as part of this transaction:
 * committed, they are gone with the events' effects; rolled back, they are queued again.
 */
export async function claimQueuedEvents(trx: Executor, limit: number): Promise<ClaimedEvent[]> {
  const rows = await trx
    .with('claimed', (qb) =>
      qb
        .deleteFrom('stripe_event_queue')
        .where('event_id', 'in', (eb) =>
          eb.selectFrom('stripe_event_queue').select('event_id').orderBy('created').orderBy('event_id').limit(limit).forUpdate().skipLocked(),
        )
        .returning(['event_id', 'created']),
    )
    .selectFrom('claimed')
    .innerJoin('stripe_events as e', 'e.id', 'claimed.event_id')
    .leftJoin('stripe_event_results as r', 'r.event_id', 'claimed.event_id')
    .select(['e.payload', 'r.outcome', 'r.note'])
    .orderBy('claimed.created')
    .orderBy('claimed.event_id')
    .execute();
  return rows.map((row) => ({ event: row.payload as Stripe.Event, result: row.outcome ? { outcome: row.outcome, note: row.note } : null }));
}

export async function hasQueuedEvents(db: Executor): Promise<boolean> {
  const row = await db.selectFrom('stripe_event_queue').select('event_id').limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function dequeueEvent(db: Executor, eventId: string): Promise<void> {
  await db.deleteFrom('stripe_event_queue').where('event_id', '=', eventId).execute();
}

/**
 * Holds the event's row for the rest of the transaction: a second attempt at the
 * same event (the retry job on another instance) waits here until the first
 * commits, and then finds its result.
 */
export async function lockEvent(db: Executor, eventId: string): Promise<boolean> {
  const row = await db.selectFrom('stripe_events').select('id').where('id', '=', eventId).forUpdate().executeTakeFirst();
  return row !== undefined;
}

export function findEventResult(db: Executor, eventId: string) {
  return db.selectFrom('stripe_event_results').select(['outcome', 'note']).where('event_id', '=', eventId).executeTakeFirst();
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

export async function findEventPayload(db: Executor, eventId: string): Promise<Stripe.Event | undefined> {
  const row = await db.selectFrom('stripe_events').select('payload').where('id', '=', eventId).executeTakeFirst();
  return row ? (row.payload as Stripe.Event) : undefined;
}
