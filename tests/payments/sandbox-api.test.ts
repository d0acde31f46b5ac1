/**
 * The sandbox's Stripe API, called through the real `stripe` library: it must
 * answer the way Stripe does for everything the service calls.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/lib/clock.js';
import { decodeStripeParams } from '../../src/payments/sandbox/form-params.js';
import { createStripeClient } from '../../src/payments/stripe-client.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';

const sessionParams = (overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}): Stripe.Checkout.SessionCreateParams => ({
  mode: 'payment',
  line_items: [{ quantity: 2, price_data: { currency: 'gbp', unit_amount: 750, product_data: { name: 'Two gifts' } } }],
  customer_email: 'api@example.org',
  client_reference_id: 'rec_1',
  metadata: { purpose: 'donation', record_id: 'rec_1', checkout_id: 'chk_1' },
  payment_intent_data: { metadata: { purpose: 'donation', record_id: 'rec_1', checkout_id: 'chk_1' } },
  success_url: 'http://example.org/ok?session_id={CHECKOUT_SESSION_ID}',
  cancel_url: 'http://example.org/cancel',
  ...overrides,
});

describe('decodeStripeParams', () => {
  it('rebuilds nested objects and arrays from Stripe-style keys', () => {
    expect(
      decodeStripeParams([
        ['line_items[0][price_data][unit_amount]', '500'],
        ['line_items[0][quantity]', '1'],
        ['line_items[1][quantity]', '3'],
        ['metadata[a]', 'b'],
        ['expand[]', 'x'],
        ['expand[]', 'y'],
        ['mode', 'payment'],
      ]),
    ).toEqual({ line_items: [{ price_data: { unit_amount: '500' }, quantity: '1' }, { quantity: '3' }], metadata: { a: 'b' }, expand: ['x', 'y'], mode: 'payment' });
  });

  it('drops keys that would reach the prototype', () => {
    const decoded = decodeStripeParams([['__proto__[polluted]', 'yes'], ['a[constructor][x]', '1']]);
    expect(decoded).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('the sandbox Stripe API', () => {
  let fake: FakeStripe;
  let stripe: Stripe;
  beforeAll(async () => {
    fake = await startFakeStripe({ webhookSecret: 'whsec_unused' });
    stripe = createStripeClient({ secretKey: 'sk_test_sandbox', apiBase: fake.url, maxNetworkRetries: 0 });
  });
  afterAll(() => fake.close());

  it('creates, retrieves and expires a Checkout Session shaped as Stripe shapes it', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'k-create-1' });
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      amount_total: 1500,
      currency: 'gbp',
      client_reference_id: 'rec_1',
      metadata: { purpose: 'donation', record_id: 'rec_1', checkout_id: 'chk_1' },
      livemode: false,
      url: `${fake.url}/sandbox/checkout/${session.id}`,
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(await stripe.checkout.sessions.retrieve(session.id)).toEqual(session);
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired.status).toBe('expired');
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });

  it('replays an idempotent request, and refuses the same key with other parameters', async () => {
    const a = await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'k-replay' });
    const b = await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'k-replay' });
    expect(b.id).toBe(a.id);
    await expect(stripe.checkout.sessions.create(sessionParams({ customer_email: 'other@example.org' }), { idempotencyKey: 'k-replay' })).rejects.toMatchObject({
      type: 'StripeIdempotencyError',
    });
    expect(fake.requestsTo('/v1/checkout/sessions', 'POST').filter((r) => r.idempotencyKey === 'k-replay').map((r) => r.status)).toEqual([200, 200, 400]);
  });

  it('answers bad parameters with a Stripe-shaped 400', async () => {
    const error = await stripe.checkout.sessions.create({ mode: 'payment', success_url: 'http://x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'line_items' });
  });

  it('answers unknown objects with 404 resource_missing', async () => {
    await expect(stripe.charges.retrieve('ch_nope')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    await expect(stripe.paymentIntents.retrieve('pi_nope')).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('refunds a paid session in parts and lists the refunds page by page, newest first', async () => {
    const session = await stripe.checkout.sessions.create(sessionParams());
    await fake.pay(session.id);
    const paid = await stripe.checkout.sessions.retrieve(session.id);
    expect(paid).toMatchObject({ status: 'complete', payment_status: 'paid', payment_intent: expect.stringMatching(/^pi_/) });
    const intent = await stripe.paymentIntents.retrieve(paid.payment_intent as string);
    expect(intent).toMatchObject({ status: 'succeeded', amount: 1500, metadata: { checkout_id: 'chk_1' } });
    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge).toMatchObject({ status: 'succeeded', paid: true, payment_intent: intent.id, metadata: { checkout_id: 'chk_1' } });

    const r1 = await stripe.refunds.create({ payment_intent: intent.id, amount: 100 }, { idempotencyKey: 'refund-1' });
    const r2 = await stripe.refunds.create({ charge: charge.id, amount: 200 });
    const r3 = await stripe.refunds.create({ charge: charge.id, amount: 300 });
    await expect(stripe.refunds.create({ charge: charge.id, amount: 5000 })).rejects.toMatchObject({ code: 'amount_too_large' });
    const listed: string[] = [];
    for await (const r of stripe.refunds.list({ charge: charge.id, limit: 2 })) listed.push(r.id);
    expect(listed).toEqual([r3.id, r2.id, r1.id]);
    expect((await stripe.charges.retrieve(charge.id)).amount_refunded).toBe(600);
    await fake.idle();
  });

  it('tells which invoice a subscription\'s PaymentIntent paid (invoice payments listed by payment), and the invoice its subscription', async () => {
    const metadata = { purpose: 'supporter', record_id: 'rec_2', checkout_id: 'chk_2' };
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ quantity: 1, price_data: { currency: 'gbp', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'Monthly support' } } }],
      customer_email: 'api@example.org',
      metadata,
      subscription_data: { metadata },
      success_url: 'http://example.org/ok',
    });
    await fake.pay(session.id);
    const subscriptionId = (await stripe.checkout.sessions.retrieve(session.id)).subscription as string;
    const invoiceId = fake.sandbox.state.billing.getSubscription(subscriptionId).latest_invoice!;
    const [byInvoice] = (await stripe.invoicePayments.list({ invoice: invoiceId })).data;
    expect(byInvoice).toMatchObject({ object: 'invoice_payment', invoice: invoiceId, status: 'paid', amount_paid: 500, payment: { type: 'payment_intent', payment_intent: expect.stringMatching(/^pi_/) } });
    // Stripe names the charge only for payments made without a PaymentIntent.
    expect(byInvoice!.payment.charge).toBeUndefined();

    const paymentIntent = byInvoice!.payment.payment_intent as string;
    const byIntent = await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: paymentIntent }, limit: 10 });
    expect(byIntent.data.map((p) => p.id)).toEqual([byInvoice!.id]);
    expect((await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: 'pi_none' } })).data).toEqual([]);
    await expect(stripe.invoicePayments.list({ payment: { type: 'charge' } })).rejects.toMatchObject({ statusCode: 400, param: 'payment[type]' });

    const invoice = await stripe.invoices.retrieve(invoiceId);
    expect(invoice).toMatchObject({ id: invoiceId, status: 'paid', amount_paid: 500, parent: { subscription_details: { subscription: subscriptionId, metadata } } });
    expect(invoice.status_transitions.paid_at).toEqual(expect.any(Number));
    // The PaymentIntent and its charge carry none of the subscription's metadata.
    expect((await stripe.paymentIntents.retrieve(paymentIntent)).metadata).toEqual({});
    await fake.idle();
  });

  it('fails the next calls when asked, telling the client not to retry', async () => {
    fake.failNext('/v1/charges/ch_whatever', 1);
    await expect(stripe.charges.retrieve('ch_whatever')).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    await expect(stripe.charges.retrieve('ch_whatever')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('refuses calls without an API key and unknown paths, in Stripe error shape', async () => {
    const noKey = await fetch(`${fake.url}/v1/charges/ch_1`);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.any(String) } });
    const unknown = await fetch(`${fake.url}/v1/customers`, { headers: { authorization: 'Bearer sk_test_x' } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('is reachable under a path prefix, as the built-in sandbox is (/sandbox/stripe)', async () => {
    const prefixed = createStripeClient({ secretKey: 'sk_test_sandbox', apiBase: `${fake.url}/sandbox/stripe`, maxNetworkRetries: 0 });
    const session = await prefixed.checkout.sessions.create(sessionParams());
    expect((await prefixed.checkout.sessions.retrieve(session.id)).id).toBe(session.id);
  });
});

describe('the sandbox Stripe API over days', () => {
  let fake: FakeStripe;
  let stripe: Stripe;
  const clock = new FixedClock('2026-11-02T09:00:00Z');
  beforeAll(async () => {
    fake = await startFakeStripe({ webhookSecret: 'whsec_unused', clock });
    stripe = createStripeClient({ secretKey: 'sk_test_sandbox', apiBase: fake.url, maxNetworkRetries: 0 });
  });
  afterAll(() => fake.close());

  it('when an idempotency key is used again after 24 hours, then it is forgotten, as Stripe forgets it, and the request runs anew', async () => {
    const first = await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'k-a-day' });

    clock.advance(23 * 3600_000);
    expect((await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'k-a-day' })).id).toBe(first.id);

    clock.advance(2 * 3600_000);
    const again = await stripe.checkout.sessions.create(sessionParams({ customer_email: 'other@example.org' }), { idempotencyKey: 'k-a-day' });
    expect(again.id).not.toBe(first.id);
    expect(again.customer_email).toBe('other@example.org');
  });
});
