/**
 * The webhook inbox's processor: what was recorded is applied exactly once, by
 * whichever instance gets to it, and a failing event is handed to the retry job
 * without holding up the others.
 */
import Stripe from 'stripe';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPaymentHandlers } from '../../src/composition.js';
import { createStripeInbox } from '../../src/payments/stripe-inbox.js';
import { recordEvents } from '../../src/payments/webhooks.repository.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../support/test-app.js';
import { donationRow, eventResult, ledgerOf, ledgerTotal, startDonation } from './payment-helpers.js';

describe('the Stripe event processor', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T12:00:00Z' });
  });
  afterAll(() => app.close());

  const state = () => app.stripe.sandbox.state;

  /** Stores events as POST /webhooks/stripe does, without applying them (an instance that stopped right after). */
  const recordOnly = (events: { id: string; type: string; created: number }[]) =>
    recordEvents(
      app.db,
      events.map((e) => ({
        id: e.id,
        type: e.type,
        created: new Date(e.created * 1000),
        livemode: false,
        apiVersion: Stripe.API_VERSION,
        payload: JSON.stringify(e),
        receivedAt: app.clock.now(),
      })),
    );

  const queued = async (eventIds: string[]) =>
    (await app.db.selectFrom('stripe_event_queue').select('event_id').where('event_id', 'in', eventIds).execute()).length;

  it('when an instance recorded an event and stopped before applying it, then another instance polling the queue applies it once', async () => {
    const d = await startDonation(app, { amount: 1400 });
    const completed = state().pay(d.sessionId, 'card').events[0]!;
    expect(await recordOnly([completed])).toEqual([completed.id]);
    expect(await eventResult(app, completed.id)).toBeUndefined();

    const other = createStripeInbox(app.deps, buildPaymentHandlers(app.deps), { pollMs: 20 });
    other.start();
    try {
      await expect.poll(async () => (await eventResult(app, completed.id))?.outcome, { timeout: 10_000 }).toBe('applied');
    } finally {
      await other.stop();
    }
    expect(await ledgerTotal(app, d.donationId)).toBe(1400);
    expect(await queued([completed.id])).toBe(0);
    // Stripe delivers it again later: recorded before, so nothing more happens.
    const again = await app.deliverWebhook(completed);
    expect(again.body).toEqual({ received: true, eventId: completed.id, outcome: 'duplicate' });
    expect(await ledgerOf(app, d.donationId)).toHaveLength(1);
  });

  it('when two instances work through the same queue at once, then every event is applied exactly once', async () => {
    const donations = await Promise.all(Array.from({ length: 12 }, (_, i) => startDonation(app, { amount: 100 + i })));
    const events = donations.map((d) => state().pay(d.sessionId, 'card').events[0]!);
    expect(await recordOnly(events)).toHaveLength(12);

    const handlers = buildPaymentHandlers(app.deps);
    const a = createStripeInbox(app.deps, handlers, { concurrency: 2, applyBatch: 3 });
    const b = createStripeInbox(app.deps, handlers, { concurrency: 2, applyBatch: 1 });
    try {
      await Promise.all([a.drain(), b.drain()]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    for (const [i, d] of donations.entries()) {
      expect(await ledgerOf(app, d.donationId)).toEqual([expect.objectContaining({ kind: 'online_donation', amount: 100 + i })]);
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'paid' });
    }
    const results = await app.db.selectFrom('stripe_event_results').select('event_id').where('event_id', 'in', events.map((e) => e.id)).execute();
    expect(results).toHaveLength(12);
    expect(await queued(events.map((e) => e.id))).toBe(0);
  });

  it('when one event of those applied together fails, then only it goes to the retry job and the others are applied', async () => {
    const paid = await startDonation(app, { amount: 1000 });
    await app.stripe.pay(paid.sessionId);
    const first = await startDonation(app, { amount: 700 });
    const last = await startDonation(app, { amount: 800 });
    const before = state().pay(first.sessionId, 'card').events[0]!;
    const refunded = state().createRefund({ charge: state().chargeOf(paid.sessionId).id, amount: 250 }).events[0]!;
    const after = state().pay(last.sessionId, 'card').events[0]!;
    // Oldest first: the refund's Stripe call fails in the middle of the three.
    before.created -= 2;
    refunded.created -= 1;
    await recordOnly([before, refunded, after]);
    app.stripe.failNext('/v1/refunds', 1, { method: 'GET' });

    await app.drainStripeEvents();

    expect(await eventResult(app, before.id)).toMatchObject({ outcome: 'applied' });
    expect(await eventResult(app, after.id)).toMatchObject({ outcome: 'applied' });
    expect(await eventResult(app, refunded.id)).toBeUndefined();
    expect(await ledgerTotal(app, first.donationId)).toBe(700);
    expect(await ledgerTotal(app, last.donationId)).toBe(800);
    expect(await ledgerTotal(app, paid.donationId)).toBe(1000);
    expect(await app.db.selectFrom('stripe_event_failures').select('error').where('event_id', '=', refunded.id).execute()).toHaveLength(1);
    const jobs = await sql<{ key: string }>`select key from graphile_worker._private_jobs where key = ${`stripe-event:${refunded.id}`}`.execute(app.db);
    expect(jobs.rows).toHaveLength(1);
    expect(await queued([before.id, refunded.id, after.id])).toBe(0);
  });

  it('when a delivery the database cannot store arrives beside a good one, then only it fails and the good one is applied', async () => {
    const d = await startDonation(app, { amount: 1600 });
    const good = state().pay(d.sessionId, 'card').events[0]!;
    // Valid JSON, correctly signed, but jsonb cannot hold a NUL character.
    const bad = state().event('customer.updated', { id: 'cus_nul', object: 'customer', name: 'nul\u0000byte' });
    const [badRes, goodRes] = await Promise.all([app.deliverWebhook(bad), app.deliverWebhook(good)]);
    expect(badRes.status).toBe(500);
    expect(goodRes.status).toBe(200);
    expect(goodRes.body.outcome).toBe('recorded');
    expect(await app.db.selectFrom('stripe_events').select('id').where('id', '=', bad.id).execute()).toEqual([]);
    expect(await ledgerTotal(app, d.donationId)).toBe(1600);
  });

  it('when the webhook answers, then the event is stored with its verified body', async () => {
    const event = state().event('customer.tax_id.created', { id: 'txi_stored', object: 'tax_id', value: 'GB123' });
    const payload = JSON.stringify(event);
    const res = await app.request('POST', '/webhooks/stripe', {
      body: payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET }) },
    });
    expect(res.body).toEqual({ received: true, eventId: event.id, outcome: 'recorded' });
    const stored = await app.db.selectFrom('stripe_events').selectAll().where('id', '=', event.id).executeTakeFirstOrThrow();
    expect(stored.payload).toEqual(JSON.parse(payload));
    expect(stored.created).toEqual(new Date(event.created * 1000));
    await app.drainStripeEvents();
    expect(await eventResult(app, event.id)).toMatchObject({ outcome: 'ignored' });
  });
});
