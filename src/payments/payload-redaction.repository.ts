/**
 * SQL for removing personal fields from stored Stripe events. The database does the
 * removing (stripe_payload_redacted, see migrations/2026-11-30T14-20-00_stripe-payload-redaction.ts)
 * and its trigger allows no other change to an event.
 */
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';

/** Redacts up to `limit` applied (or ignored) events not redacted yet; returns how many. */
export async function redactAppliedEvents(db: Executor, now: Date, limit: number): Promise<number> {
  const { rows } = await sql<{ id: string }>`
    update stripe_events set payload = stripe_payload_redacted(payload), redacted_at = ${now}::timestamptz
     where id in (
       select e.id from stripe_events e
        where e.redacted_at is null
          and exists (select 1 from stripe_event_results r where r.event_id = e.id)
        order by e.received_at
        limit ${limit}
        for update skip locked)
    returning id`.execute(db);
  return rows.length;
}

/**
 * Redacts every event that names one of these Stripe ids (sessions, PaymentIntents,
 * customers, subscriptions we created for the person) or their email address,
 * applied or not: the ids and metadata that link an event to our records stay.
 */
export async function redactEventsMentioning(db: Executor, now: Date, needles: { ids: string[]; email: string }): Promise<number> {
  const { rows } = await sql<{ id: string }>`
    update stripe_events set payload = stripe_payload_redacted(payload), redacted_at = ${now}::timestamptz
     where redacted_at is null
       and (position(${needles.email.toLowerCase()}::text in lower(payload::text)) > 0
            or exists (select 1 from unnest(${needles.ids}::text[]) as i(id) where position(i.id in payload::text) > 0))
    returning id`.execute(db);
  return rows.length;
}

/** The Stripe ids of the checkouts we created for these records of ours (donations, applications, ...). */
export async function stripeIdsOfRecords(db: Executor, recordIds: readonly string[]): Promise<string[]> {
  if (recordIds.length === 0) return [];
  const rows = await db
    .selectFrom('checkout_sessions')
    .select(['stripe_session_id', 'payment_intent_id', 'customer_id', 'subscription_id'])
    .where('record_id', 'in', recordIds)
    .execute();
  return [...new Set(rows.flatMap((r) => [r.stripe_session_id, r.payment_intent_id, r.customer_id, r.subscription_id]).filter((id): id is string => Boolean(id)))];
}
