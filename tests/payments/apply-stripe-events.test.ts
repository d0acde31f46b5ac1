/**
 * Recorded Stripe events are applied by graphile-worker jobs: stored with their job
 * in one statement, applied exactly once whichever worker (or how many) runs it.
 */
import Stripe from 'stripe';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEventAppliers, buildPaymentHandlers } from '../../src/composition.js';
import { applyStripeEvents } from '../../src/payments/apply-stripe-events.js';
import { recordEvents } from '../../src/payments/webhooks.repository.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { donationRow, eventResult, ledgerOf, ledgerTotal, startDonation } from './payment-helpers.js';

describe('applying recorded Stripe events', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T12:00:00Z' });
  });
  afterAll(() => app.close());

  const state = () => app.stripe.sandbox.state;

  const rowOf = (e: { id: string; type: string; created: number }) => ({
    id: e.id,
    type: e.type,
    created: new Date(e.created * 1000),
    livemode: false,
    apiVersion: Stripe.API_VERSION,
    payload: JSON.stringify(e),
    receivedAt: app.clock.now(),
  });

  const jobsNaming = async (eventId: string) =>
    (
      await sql<{ payload: string[] }>`
        select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
         where t.identifier = 'apply-stripe-events' and j.payload::jsonb ? ${eventId}`.execute(app.db)
    ).rows;

  it('when events are recorded, then one job naming them is added by the same statement, and none for a duplicate', async () => {
    const events = [1, 2].map((i) => state().event('customer.tax_id.created', { id: `txi_job_${i}`, object: 'tax_id' }));
    // In a transaction left open, so the worker cannot take the job before we look.
    await app.db
      .transaction()
      .execute(async (trx) => {
        expect(await recordEvents(trx, events.map(rowOf))).toEqual(events.map((e) => e.id));
        const jobs = await sql<{ payload: string[] }>`
          select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
           where t.identifier = 'apply-stripe-events' and j.payload::jsonb ? ${events[0]!.id}`.execute(trx);
        expect(jobs.rows).toHaveLength(1);
        expect([...jobs.rows[0]!.payload].sort()).toEqual(events.map((e) => e.id).sort());
        expect(await recordEvents(trx, [rowOf(events[0]!)])).toEqual([]);
        throw new Error('roll back');
      })
      .catch((err: unknown) => expect((err as Error).message).toBe('roll back'));
    // Rolled back: neither the events nor their job exist.
    expect(await app.db.selectFrom('stripe_events').select('id').where('id', 'in', events.map((e) => e.id)).execute()).toEqual([]);
    expect(await jobsNaming(events[0]!.id)).toEqual([]);
  });

  it('when two workers take the jobs of many events at once, then every event is applied exactly once', async () => {
    const donations = await Promise.all(Array.from({ length: 12 }, (_, i) => startDonation(app, { amount: 100 + i })));
    const events = donations.map((d) => state().pay(d.sessionId, 'card').events[0]!);
    const second = await app.startWorker();
    try {
      await Promise.all([0, 4, 8].map((at) => recordEvents(app.db, events.slice(at, at + 4).map(rowOf))));
      await app.drainStripeEvents();
    } finally {
      await second.stop();
    }
    for (const [i, d] of donations.entries()) {
      expect(await ledgerOf(app, d.donationId)).toEqual([expect.objectContaining({ kind: 'online_donation', amount: 100 + i })]);
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'paid' });
    }
    const results = await app.db.selectFrom('stripe_event_results').select('event_id').where('event_id', 'in', events.map((e) => e.id)).execute();
    expect(results).toHaveLength(12);
    expect(await jobsNaming(events[0]!.id)).toEqual([]);
  });

  it('when the same events are applied twice at the same moment (a job taken over while it still ran), then they are booked once', async () => {
    const d = await startDonation(app, { amount: 2100 });
    const completed = state().pay(d.sessionId, 'card').events[0]!;
    // Stored without a job, as if its job were running elsewhere.
    await app.db
      .insertInto('stripe_events')
      .values({ id: completed.id, type: completed.type, created: new Date(completed.created * 1000), livemode: false, payload: JSON.stringify(completed) })
      .execute();
    const application = { appliers: buildEventAppliers(), handlers: buildPaymentHandlers(app.deps) };
    const [a, b] = await Promise.all([applyStripeEvents(app.deps, application, [completed.id]), applyStripeEvents(app.deps, application, [completed.id])]);
    const outcomes = [a.get(completed.id), b.get(completed.id)];
    expect(outcomes).toContainEqual(expect.objectContaining({ outcome: 'applied', duplicate: false }));
    expect(outcomes).toContainEqual(expect.objectContaining({ outcome: 'applied', duplicate: true }));
    expect(await ledgerTotal(app, d.donationId)).toBe(2100);
    expect(await ledgerOf(app, d.donationId)).toHaveLength(1);
  });

  it('when a delivery the database cannot store arrives beside a good one, then only it fails and the good one is applied', async () => {
    const d = await startDonation(app, { amount: 1600 });
    const good = state().pay(d.sessionId, 'card').events[0]!;
    // Valid JSON, correctly signed, but no timestamptz holds its date (year 287,000). (A NUL, which jsonb
    // cannot hold either, is replaced before recording: tests/payments/webhook-edges.test.ts.)
    const bad = { ...state().event('customer.updated', { id: 'cus_far_future', object: 'customer' }), created: 9_000_000_000_000 };
    const [badRes, goodRes] = await Promise.all([app.deliverWebhook(bad), app.deliverWebhook(good)]);
    expect(badRes.status).toBeGreaterThanOrEqual(400);
    expect(goodRes.status).toBe(200);
    expect(goodRes.body.outcome).toBe('recorded');
    expect(await app.db.selectFrom('stripe_events').select('id').where('id', '=', bad.id).execute()).toEqual([]);
    expect(await ledgerTotal(app, d.donationId)).toBe(1600);
  });

  it('when the webhook answers, then the event is stored with its verified body and applied by its job', async () => {
    const event = state().event('customer.tax_id.created', { id: 'txi_stored', object: 'tax_id', value: 'GB123' });
    const payload = JSON.stringify(event);
    const res = await app.postWebhook(event);
    expect(res.body).toEqual({ received: true, eventId: event.id, outcome: 'recorded' });
    const stored = await app.db.selectFrom('stripe_events').selectAll().where('id', '=', event.id).executeTakeFirstOrThrow();
    expect(stored.payload).toEqual(JSON.parse(payload));
    expect(stored.created).toEqual(new Date(event.created * 1000));
    await app.drainStripeEvents();
    expect(await eventResult(app, event.id)).toMatchObject({ outcome: 'ignored' });
    expect(await jobsNaming(event.id)).toEqual([]);
  });

  it('when a reader asks for the fund while a payment is being booked, then once it commits the fund shows it at once (the cache is dropped after the commit)', async () => {
    const d = await startDonation(app, { amount: 4321 });
    const completed = state().pay(d.sessionId, 'card').events[0]!;
    const session = completed.data.object as { payment_intent: string };
    const raised = async () => ((await app.request('GET', '/api/fighting-fund/2026-11')).body as { raised: number }).raised;
    const before = await raised();
    await app.db
      .transaction()
      .execute(async (trx) => {
        // Holds the receipt's dedupe key: the booking's transaction waits on it after inserting its ledger entry.
        await trx
          .insertInto('emails')
          .values({
            template: 'blocker',
            to_address: 'blocker@example.org',
            from_address: 'blocker@example.org',
            subject: 'blocker',
            html: '',
            text: '',
            message_id: `<blocker-${completed.id}@example.org>`,
            dedupe_key: `donation-receipt:${session.payment_intent}`,
            created_at: app.clock.now(),
          })
          .execute();
        const res = await app.postWebhook(completed);
        expect(res.status).toBe(200);
        await expect
          .poll(async () => (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(app.db)).rows[0]!.n, { timeout: 15_000 })
          .toBeGreaterThan(0);
        // Read while the booking is inserted but not committed: these figures must not outlive its commit.
        expect(await raised()).toBe(before);
        throw new Error('release');
      })
      .catch((err: unknown) => expect((err as Error).message).toBe('release'));
    await app.drainStripeEvents();
    expect(await eventResult(app, completed.id)).toMatchObject({ outcome: 'applied' });
    expect(await raised()).toBe(before + 4321);
  });
});
