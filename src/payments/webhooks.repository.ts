/** SQL for the webhook inbox: stripe_events (every event once), its results and failures. */
import type Stripe from 'stripe';
import type { Executor } from '../db/database.js';

/**
 * Stores the event unless it is already there (the id is the key Stripe retries with).
 * True when this call stored it: the row is then new in this transaction, locked by it,
 * and cannot have a result yet.
 */
export async function insertEvent(db: Executor, event: Stripe.Event, now: Date): Promise<boolean> {
  const inserted = await db
    .insertInto('stripe_events')
    .values({
      id: event.id,
      type: event.type,
      created: new Date(event.created * 1000),
      livemode: event.livemode,
      api_version: event.api_version ?? null,
      payload: JSON.stringify(event),
      received_at: now,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Holds the event's row for the rest of the transaction. A second delivery of the
 * same event (another instance, a concurrent retry) waits here until the first
 * commits, and then finds its result.
 */
export async function lockEvent(db: Executor, eventId: string): Promise<boolean> {
  const row = await db.selectFrom('stripe_events').select('id').where('id', '=', eventId).forUpdate().executeTakeFirst();
  return row !== undefined;
}

export function findEventResult(db: Executor, eventId: string) {
  return db.selectFrom('stripe_event_results').select(['outcome', 'note']).where('event_id', '=', eventId).executeTakeFirst();
}

export async function insertEventResult(
  db: Executor,
  result: { eventId: string; outcome: 'applied' | 'ignored'; note: string | null; now: Date },
): Promise<void> {
  await db
    .insertInto('stripe_event_results')
    .values({ event_id: result.eventId, outcome: result.outcome, note: result.note, processed_at: result.now })
    .execute();
}

export async function insertEventFailure(db: Executor, failure: { eventId: string; error: string; now: Date }): Promise<void> {
  await db.insertInto('stripe_event_failures').values({ event_id: failure.eventId, error: failure.error, failed_at: failure.now }).execute();
}

export async function findEventPayload(db: Executor, eventId: string): Promise<Stripe.Event | undefined> {
  const row = await db.selectFrom('stripe_events').select('payload').where('id', '=', eventId).executeTakeFirst();
  return row ? (row.payload as Stripe.Event) : undefined;
}
