import Stripe from 'stripe';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvents } from '../../src/payments/webhooks.repository.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../support/test-app.js';
import { donationRow, eventResult, ledgerOf, ledgerTotal, rowCounts, startDonation } from './payment-helpers.js';

describe('POST /webhooks/stripe', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T12:00:00Z' });
  });
  afterAll(() => app.close());

  /** The job that applies an event, while it has one. */
  const eventJob = async (eventId: string) =>
    (
      await sql<{ id: string; attempts: number; last_error: string | null; payload: string[] }>`
        select j.id, j.attempts, j.last_error, j.payload from graphile_worker._private_jobs j
          join graphile_worker._private_tasks t on t.id = j.task_id
         where t.identifier = 'apply-stripe-events' and j.payload::jsonb ? ${eventId}`.execute(app.db)
    ).rows[0];

  /** The sandbox's events without delivering them, for tests that choose the order. */
  const state = () => app.stripe.sandbox.state;

  describe('signature', () => {
    const event = {
      id: 'evt_signature_test',
      object: 'event',
      type: 'checkout.session.completed',
      created: 1795000000,
      livemode: false,
      api_version: Stripe.API_VERSION,
      data: { object: { id: 'cs_test_signature', object: 'checkout.session' } },
    };

    it('when the Stripe-Signature header is missing, then 400 invalid_signature and nothing is stored', async () => {
      const before = await rowCounts(app);
      const res = await app.deliverWebhook(event, { signature: null });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_signature');
      expect(await rowCounts(app)).toEqual(before);
    });

    it('when the body was signed with another secret, then 400 invalid_signature and nothing is stored', async () => {
      const before = await rowCounts(app);
      const signature = Stripe.webhooks.generateTestHeaderString({ payload: JSON.stringify(event), secret: 'whsec_someone_else' });
      const res = await app.deliverWebhook(event, { signature });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_signature');
      expect(await rowCounts(app)).toEqual(before);
    });

    it('when the body was changed after signing, then 400 invalid_signature', async () => {
      const signature = Stripe.webhooks.generateTestHeaderString({ payload: JSON.stringify(event), secret: TEST_WEBHOOK_SECRET });
      const res = await app.request('POST', '/webhooks/stripe', {
        body: JSON.stringify({ ...event, id: 'evt_tampered' }),
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_signature');
    });

    it('when the signature is older than five minutes (a replay), then 400 invalid_signature and nothing is stored', async () => {
      const before = await rowCounts(app);
      const res = await app.deliverWebhook(event, { timestamp: Math.floor(Date.now() / 1000) - 301 });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_signature');
      expect(await rowCounts(app)).toEqual(before);
    });

    it('when the signature is fresh, then the event is stored once by its id', async () => {
      const res = await app.deliverWebhook(event);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: true, eventId: event.id, outcome: 'recorded' });
      expect(await eventResult(app, event.id)).toMatchObject({ outcome: 'ignored' });
      const stored = await app.db.selectFrom('stripe_events').selectAll().where('id', '=', event.id).execute();
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ type: event.type, livemode: false, api_version: Stripe.API_VERSION });
    });
  });

  describe('card payments', () => {
    it('when a card payment completes, then the gift is booked to the ledger once and the donation is paid', async () => {
      const d = await startDonation(app, { amount: 1234, name: 'Grace Hopper', town: 'Leeds', acknowledge: true });
      const { events, deliveries } = await app.stripe.pay(d.sessionId);
      expect(deliveries.map((x) => x.status)).toEqual([200]);
      const piId = (events[0]!.data.object as { payment_intent: string }).payment_intent;

      expect(await ledgerOf(app, d.donationId)).toEqual([
        expect.objectContaining({ kind: 'online_donation', amount: 1234, stripe_key: `payment:${piId}`, source_ref: piId, acknowledged: true, donor_name: 'Grace Hopper', donor_town: 'Leeds' }),
      ]);
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'paid' });
      const checkout = await app.db.selectFrom('checkout_sessions').selectAll().where('record_id', '=', d.donationId).executeTakeFirstOrThrow();
      expect(checkout).toMatchObject({ status: 'complete', payment_status: 'paid', payment_intent_id: piId });
      expect(await eventResult(app, events[0]!.id)).toMatchObject({ outcome: 'applied' });
    });

    it('when the donor did not ask to be acknowledged, then the ledger holds no name or town', async () => {
      const d = await startDonation(app, { amount: 500, name: 'Private Person', town: 'Hull' });
      await app.stripe.pay(d.sessionId);
      expect(await ledgerOf(app, d.donationId)).toEqual([expect.objectContaining({ acknowledged: false, donor_name: null, donor_town: null })]);
    });

    it('when Stripe delivers the same event again, then it is answered 200 and booked once', async () => {
      const d = await startDonation(app, { amount: 800 });
      const { events } = await app.stripe.pay(d.sessionId);
      const again = await app.deliverWebhook(events[0]!);
      expect(again.status).toBe(200);
      expect(again.body.outcome).toBe('duplicate');
      expect(await ledgerOf(app, d.donationId)).toHaveLength(1);
      expect(await ledgerTotal(app, d.donationId)).toBe(800);
    });

    it('when two instances receive the same event at the same moment, then it is booked once', async () => {
      const d = await startDonation(app, { amount: 950 });
      const { events } = state().pay(d.sessionId, 'card');
      const [a, b, c] = await Promise.all([app.deliverWebhook(events[0]!), app.deliverWebhook(events[0]!), app.deliverWebhook(events[0]!)]);
      expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
      expect([a.body.outcome, b.body.outcome, c.body.outcome].sort()).toEqual(['duplicate', 'duplicate', 'recorded']);
      expect(await eventResult(app, events[0]!.id)).toMatchObject({ outcome: 'applied' });
      expect(await ledgerOf(app, d.donationId)).toHaveLength(1);
      const results = await app.db.selectFrom('stripe_event_results').selectAll().where('event_id', '=', events[0]!.id).execute();
      expect(results).toHaveLength(1);
    });

    it('when the session expires unpaid, then the donation is expired and nothing is booked', async () => {
      const d = await startDonation(app, { amount: 600 });
      await app.stripe.expire(d.sessionId);
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'expired' });
      expect(await ledgerOf(app, d.donationId)).toEqual([]);
      const checkout = await app.db.selectFrom('checkout_sessions').select('status').where('record_id', '=', d.donationId).executeTakeFirstOrThrow();
      expect(checkout.status).toBe('expired');
    });
  });

  describe('Bacs Direct Debit', () => {
    it('when the debit is pending and then succeeds, then the gift is booked only on success', async () => {
      const d = await startDonation(app, { amount: 2000 });
      await app.stripe.pay(d.sessionId, 'bacs');
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'processing' });
      expect(await ledgerOf(app, d.donationId)).toEqual([]);
      const page = await app.request('GET', `/checkout/success?session_id=${d.sessionId}`);
      expect(page.text).toContain('Direct Debit is being processed');
      // It checks again by itself.
      expect(page.text).toContain('<meta http-equiv="refresh" content="10">');

      await app.stripe.settleBacs(d.sessionId, 'succeeded');
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'paid' });
      expect(await ledgerTotal(app, d.donationId)).toBe(2000);
    });

    it('when the debit is pending and then fails, then the donation fails, nothing is booked, and the donor is emailed a way to try again', async () => {
      const d = await startDonation(app, { amount: 2100 });
      await app.stripe.pay(d.sessionId, 'bacs');
      await app.stripe.settleBacs(d.sessionId, 'failed');
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'failed' });
      expect(await ledgerOf(app, d.donationId)).toEqual([]);
      const emails = await app.db.selectFrom('emails').selectAll().where('template', '=', 'payment-failed').where('to_address', '=', (await donationRow(app, d.donationId)).email).execute();
      expect(emails).toHaveLength(1);
      expect(emails[0]!.subject).toBe('Your Direct Debit of £21.00 did not go through');
      expect(emails[0]!.text).toContain(`${app.config.publicUrl}/donate/resume/${d.donationId}`);
      // Trying again opens the donate form as it was left.
      const resumed = await app.request('GET', `/donate/resume/${d.donationId}`);
      expect(resumed.text).toContain('value="21"');
    });

    it('when the success arrives before the pending notice, then the donation stays paid', async () => {
      const d = await startDonation(app, { amount: 2200 });
      const completed = state().pay(d.sessionId, 'bacs').events[0]!;
      const succeeded = state().settleBacs(d.sessionId, 'succeeded').events[0]!;
      expect((await app.deliverWebhook(succeeded)).status).toBe(200);
      expect((await app.deliverWebhook(completed)).status).toBe(200);
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'paid' });
      const checkout = await app.db.selectFrom('checkout_sessions').selectAll().where('record_id', '=', d.donationId).executeTakeFirstOrThrow();
      expect(checkout.payment_status).toBe('paid');
      expect(await ledgerTotal(app, d.donationId)).toBe(2200);
    });
  });

  describe('refunds', () => {
    it('when a payment is refunded in two parts, then each refund is booked once, however often they are told', async () => {
      const d = await startDonation(app, { amount: 1000 });
      await app.stripe.pay(d.sessionId);
      const first = await app.stripe.refund(d.sessionId, 300);
      const second = await app.stripe.refund(d.sessionId, 200);
      // The second charge.refunded lists both refunds; the first is not booked again.
      expect(await ledgerOf(app, d.donationId)).toEqual([
        expect.objectContaining({ kind: 'online_donation', amount: 1000 }),
        expect.objectContaining({ kind: 'refund', amount: -300, stripe_key: `refund:${first.refundId}` }),
        expect.objectContaining({ kind: 'refund', amount: -200, stripe_key: `refund:${second.refundId}` }),
      ]);
      // Stripe repeats the first event after the second: still once each.
      expect((await app.deliverWebhook(first.events[0]!)).body.outcome).toBe('duplicate');
      expect(await ledgerTotal(app, d.donationId)).toBe(500);
      const lists = app.stripe.requestsTo('/v1/refunds', 'GET').filter((r) => r.params.charge === (first.events[0]!.data.object as { id: string }).id);
      expect(lists.length).toBe(2);
      expect(lists[0]!.params.limit).toBe('100');
    });

    it('when a refund arrives before its payment, then the payment is booked first and the end state is right in either order', async () => {
      const d = await startDonation(app, { amount: 1500, name: 'Out Of Order', acknowledge: true });
      const completed = state().pay(d.sessionId, 'card').events[0]!;
      const chargeId = state().chargeOf(d.sessionId).id;
      const refunded = state().moneyBack.createRefund({ charge: chargeId, amount: 500 }).events[0]!;

      expect((await app.deliverWebhook(refunded)).body.outcome).toBe('recorded');
      expect(await eventResult(app, refunded.id)).toMatchObject({ outcome: 'applied' });
      expect(await ledgerTotal(app, d.donationId)).toBe(1000);
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'paid' });

      expect((await app.deliverWebhook(completed)).body.outcome).toBe('recorded');
      expect(await eventResult(app, completed.id)).toMatchObject({ outcome: 'applied' });
      const entries = await ledgerOf(app, d.donationId);
      expect(entries.map((e) => [e.kind, e.amount])).toEqual([
        ['online_donation', 1500],
        ['refund', -500],
      ]);
      expect(entries[0]).toMatchObject({ acknowledged: true, donor_name: 'Out Of Order' });
    });

    it('when the refund lookup fails, then the failure is recorded and its job retries the event later, exactly once', async () => {
      const d = await startDonation(app, { amount: 1100 });
      await app.stripe.pay(d.sessionId);
      app.stripe.failNext('/v1/refunds', 1, { method: 'GET' });
      const { events, deliveries } = await app.stripe.refund(d.sessionId, 400);
      const eventId = events[0]!.id;
      expect(deliveries[0]!.status).toBe(200);

      expect(await app.db.selectFrom('stripe_events').select('id').where('id', '=', eventId).execute()).toHaveLength(1);
      expect(await eventResult(app, eventId)).toBeUndefined();
      expect(await app.db.selectFrom('stripe_event_failures').selectAll().where('event_id', '=', eventId).execute()).toHaveLength(1);
      // The same job, backing off, holding only this event.
      const job = await eventJob(eventId);
      expect(job).toMatchObject({ attempts: 1, payload: [eventId] });
      expect(job!.last_error).toContain(`stripe event ${eventId} (charge.refunded)`);
      expect(await ledgerTotal(app, d.donationId)).toBe(1100);

      await sql`select graphile_worker.reschedule_jobs(array[${job!.id}]::bigint[], run_at => now())`.execute(app.db);
      await waitFor(async () => (await eventResult(app, eventId)) !== undefined);
      expect(await eventResult(app, eventId)).toMatchObject({ outcome: 'applied' });
      expect(await ledgerTotal(app, d.donationId)).toBe(700);
      await app.drainStripeEvents();
      expect(await eventJob(eventId)).toBeUndefined();
      // Stripe delivers it again: recorded before, nothing more happens.
      expect((await app.deliverWebhook(events[0]!)).body.outcome).toBe('duplicate');
      expect((await ledgerOf(app, d.donationId)).filter((e) => e.kind === 'refund')).toHaveLength(1);
    });

    it('when one event of a job fails, then the others of that job are applied and only it is retried', async () => {
      const paid = await startDonation(app, { amount: 1000 });
      await app.stripe.pay(paid.sessionId);
      const first = await startDonation(app, { amount: 700 });
      const last = await startDonation(app, { amount: 800 });
      const before = state().pay(first.sessionId, 'card').events[0]!;
      const refunded = state().moneyBack.createRefund({ charge: state().chargeOf(paid.sessionId).id, amount: 250 }).events[0]!;
      const after = state().pay(last.sessionId, 'card').events[0]!;
      app.stripe.failNext('/v1/refunds', 1, { method: 'GET' });
      // As deliveries arriving together are: one statement, one job for the three.
      const stored = await recordEvents(
        app.db,
        [before, refunded, after].map((e) => ({
          id: e.id,
          type: e.type,
          created: new Date(e.created * 1000),
          livemode: false,
          apiVersion: Stripe.API_VERSION,
          payload: JSON.stringify(e),
          receivedAt: app.clock.now(),
        })),
      );
      expect(stored).toHaveLength(3);
      await app.drainStripeEvents();

      expect(await eventResult(app, before.id)).toMatchObject({ outcome: 'applied' });
      expect(await eventResult(app, after.id)).toMatchObject({ outcome: 'applied' });
      expect(await eventResult(app, refunded.id)).toBeUndefined();
      expect(await ledgerTotal(app, first.donationId)).toBe(700);
      expect(await ledgerTotal(app, last.donationId)).toBe(800);
      expect(await ledgerTotal(app, paid.donationId)).toBe(1000);
      expect(await eventJob(refunded.id)).toMatchObject({ attempts: 1, payload: [refunded.id] });
    });
  });

  describe('refund and dispute details', () => {
    it('when a refund failed at Stripe, then it is not booked', async () => {
      const d = await startDonation(app, { amount: 1000 });
      await app.stripe.pay(d.sessionId);
      const chargeId = state().chargeOf(d.sessionId).id;
      const failed = state().moneyBack.createRefund({ charge: chargeId, amount: 400 });
      state().moneyBack.refunds.get(failed.refund.id)!.status = 'failed';
      const ok = state().moneyBack.createRefund({ charge: chargeId, amount: 100 });
      expect((await app.deliverWebhook(ok.events[0]!)).status).toBe(200);
      expect((await ledgerOf(app, d.donationId)).filter((e) => e.kind === 'refund').map((e) => e.stripe_key)).toEqual([`refund:${ok.refund.id}`]);
    });

    it('when a dispute is only an inquiry (no funds withdrawn), then nothing is booked', async () => {
      const d = await startDonation(app, { amount: 1000 });
      await app.stripe.pay(d.sessionId);
      const { dispute } = state().moneyBack.openDispute(d.sessionId);
      const inquiry = state().event('charge.dispute.created', { ...dispute, status: 'warning_needs_response' });
      expect((await app.deliverWebhook(inquiry)).status).toBe(200);
      expect(await eventResult(app, inquiry.id)).toMatchObject({ outcome: 'ignored' });
      expect(await ledgerTotal(app, d.donationId)).toBe(1000);
    });
  });

  describe('disputes', () => {
    it('when a dispute is opened and won, then the amount is booked out once and back once', async () => {
      const d = await startDonation(app, { amount: 3000 });
      await app.stripe.pay(d.sessionId);
      const { disputeId } = await app.stripe.openDispute(d.sessionId);
      // charge.dispute.created and .funds_withdrawn both arrived: booked out once.
      expect((await ledgerOf(app, d.donationId)).map((e) => [e.kind, e.amount])).toEqual([
        ['online_donation', 3000],
        ['dispute', -3000],
      ]);
      await app.stripe.closeDispute(disputeId, 'won');
      expect((await ledgerOf(app, d.donationId)).map((e) => [e.kind, e.amount, e.stripe_key])).toEqual([
        ['online_donation', 3000, expect.stringMatching(/^payment:pi_/)],
        ['dispute', -3000, `dispute:${disputeId}`],
        ['dispute_won', 3000, `dispute_won:${disputeId}`],
      ]);
    });

    it('when a dispute is lost, then the amount stays booked out and nothing more happens', async () => {
      const d = await startDonation(app, { amount: 3100 });
      await app.stripe.pay(d.sessionId);
      const { disputeId } = await app.stripe.openDispute(d.sessionId);
      await app.stripe.closeDispute(disputeId, 'lost');
      expect(await ledgerTotal(app, d.donationId)).toBe(0);
      expect(await ledgerOf(app, d.donationId)).toHaveLength(2);
    });

    it('when a won dispute is told before its opening and before the payment, then the end state is the same', async () => {
      const d = await startDonation(app, { amount: 3200 });
      const completed = state().pay(d.sessionId, 'card').events[0]!;
      const opened = state().moneyBack.openDispute(d.sessionId).events;
      const dispute = opened[0]!.data.object as { id: string };
      const closed = state().moneyBack.closeDispute(dispute.id, 'won').events[0]!;
      for (const e of [closed, ...opened, completed]) expect((await app.deliverWebhook(e)).status).toBe(200);
      expect((await ledgerOf(app, d.donationId)).map((e) => [e.kind, e.amount])).toEqual([
        ['online_donation', 3200],
        ['dispute', -3200],
        ['dispute_won', 3200],
      ]);
    });
  });

  describe('events that are not ours', () => {
    it('when a session was created by someone else on the same Stripe account, then 200, ignored, nothing booked', async () => {
      const before = await rowCounts(app);
      const foreign = state().createSession({
        mode: 'payment',
        line_items: [{ quantity: '1', price_data: { currency: 'gbp', unit_amount: '4999', product_data: { name: 'Mug' } } }],
        customer_email: 'shop-customer@example.org',
        client_reference_id: 'order-77',
        metadata: { order: '77' },
      });
      const { events } = await app.stripe.pay(foreign.id);
      const refund = await app.stripe.refund(foreign.id, 1000);
      for (const e of [...events, ...refund.events]) expect(await eventResult(app, e.id)).toMatchObject({ outcome: 'ignored' });
      const after = await rowCounts(app);
      expect(after.ledger_entries).toBe(before.ledger_entries);
      expect(after.donations).toBe(before.donations);
      expect(after.stripe_events).toBe(before.stripe_events! + 2);
    });

    it('when metadata names one of our checkouts but the record does not match, then it is ignored', async () => {
      const d = await startDonation(app, { amount: 1700 });
      const ours = await app.db.selectFrom('checkout_sessions').selectAll().where('record_id', '=', d.donationId).executeTakeFirstOrThrow();
      const forged = state().createSession({
        mode: 'payment',
        line_items: [{ quantity: '1', price_data: { currency: 'gbp', unit_amount: '1', product_data: { name: 'Forged' } } }],
        client_reference_id: '00000000-0000-4000-8000-000000000000',
        metadata: { purpose: 'donation', record_id: '00000000-0000-4000-8000-000000000000', checkout_id: ours.id },
      });
      const { events } = await app.stripe.pay(forged.id);
      expect(await eventResult(app, events[0]!.id)).toMatchObject({ outcome: 'ignored' });
      expect(await ledgerOf(app, d.donationId)).toEqual([]);
      expect(await donationRow(app, d.donationId)).toMatchObject({ status: 'pending' });
    });

    it('when the event type is unknown, then 200 and ignored', async () => {
      const event = state().event('customer.tax_id.created', { id: 'txi_123', object: 'tax_id' });
      const res = await app.deliverWebhook(event);
      expect(res.status).toBe(200);
      expect(res.body.outcome).toBe('recorded');
      expect(await eventResult(app, event.id)).toMatchObject({ outcome: 'ignored', note: expect.stringContaining('not handled') });
    });
  });

  it('when real Stripe keys are set, then the sandbox is not mounted', async () => {
    expect(app.config.stripe.sandbox).toBe(false);
    expect((await app.request('GET', '/sandbox')).status).toBe(404);
    expect((await app.request('GET', '/sandbox/stripe/v1/charges/ch_1', { headers: { authorization: 'Bearer sk_test_x' } })).status).toBe(404);
  });

  describe('return pages', () => {
    it('when the payer returns after paying, then the page says the payment is confirmed', async () => {
      const d = await startDonation(app, { amount: 900 });
      await app.stripe.pay(d.sessionId);
      const page = await app.request('GET', `/checkout/success?session_id=${d.sessionId}`);
      expect(page.status).toBe(200);
      // What was given, the campaign's new total, where the receipt went (in part), what next.
      expect(page.text).toContain('Thank you: your £9.00 gift is in the fighting fund');
      expect(page.text).toMatch(/has raised <strong>£\d[\d,]*<\/strong> of its £[\d,]+ target/);
      expect(page.text).toMatch(/Your receipt is on its way to <strong>\w…\w?@example\.org<\/strong> \(reference GIFT-\w{4}-\w{4}\)/);
      expect(page.text).toContain('What next?');
      expect(page.text).not.toContain('http-equiv="refresh"');
    });

    it('when the webhook has not arrived yet, then the page says it is being confirmed and refreshes', async () => {
      const d = await startDonation(app, { amount: 901 });
      const page = await app.request('GET', `/checkout/success?session_id=${d.sessionId}`);
      expect(page.text).toContain('we are confirming your payment');
      expect(page.text).toContain('http-equiv="refresh"');
    });

    it('when the session id is unknown or malformed, then a friendly page that reveals nothing', async () => {
      for (const id of ['cs_test_nobody', '<script>alert(1)</script>', '']) {
        const page = await app.request('GET', `/checkout/success?session_id=${encodeURIComponent(id)}`);
        expect(page.status).toBe(200);
        expect(page.text).toContain('Thank you');
        expect(page.text).not.toContain('<script>alert');
      }
      const cancelled = await app.request('GET', '/checkout/cancelled');
      expect(cancelled.status).toBe(200);
      expect(cancelled.text).toContain('Nothing has been taken');
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
