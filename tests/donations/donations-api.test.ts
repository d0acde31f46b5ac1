import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { donationsOpenApi } from '../../src/donations/donations.routes.js';
import { buildOpenApiDocument } from '../../src/lib/openapi.js';
import { checkoutPagesOpenApi } from '../../src/payments/checkout.routes.js';
import { createCheckout, checkoutIdempotencyKey } from '../../src/payments/checkout.service.js';
import { webhookOpenApi } from '../../src/payments/webhooks.routes.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { rowCounts, uniqueEmail } from '../payments/payment-helpers.js';

describe('POST /api/donations', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T12:00:00Z' });
  });
  afterAll(() => app.close());

  it('when the gift is valid, then it records a pending donation and answers 201 with a Stripe Checkout URL', async () => {
    const email = uniqueEmail();
    const res = await app.request('POST', '/api/donations', {
      json: { amount: 2500, email, name: 'Ada Lovelace', town: 'Salford', acknowledge: true },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), checkoutUrl: expect.stringMatching(/\/sandbox\/checkout\/cs_test_\w+$/) });

    const donation = await app.db.selectFrom('donations').selectAll().where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(donation).toMatchObject({ amount: 2500, currency: 'GBP', email, name: 'Ada Lovelace', town: 'Salford', acknowledge: true, status: 'pending' });
    const campaign = await app.db.selectFrom('campaigns').selectAll().where('id', '=', donation.campaign_id).executeTakeFirstOrThrow();
    expect(campaign.slug).toBe('2026-11');
    const person = await app.db.selectFrom('people').selectAll().where('id', '=', donation.person_id!).executeTakeFirstOrThrow();
    expect(person.email).toBe(email);

    const checkout = await app.db.selectFrom('checkout_sessions').selectAll().where('record_id', '=', donation.id).executeTakeFirstOrThrow();
    expect(checkout).toMatchObject({ purpose: 'donation', mode: 'payment', amount: 2500, status: 'open', url: res.body.checkoutUrl });
    const sessionId = app.stripe.sessionIdOf(res.body.checkoutUrl);
    expect(checkout.stripe_session_id).toBe(sessionId);

    const calls = app.stripe.requestsTo('/v1/checkout/sessions', 'POST').filter((r) => r.params.client_reference_id === donation.id);
    expect(calls).toHaveLength(1);
    const metadata = { purpose: 'donation', record_id: donation.id, checkout_id: checkout.id };
    expect(calls[0]!.idempotencyKey).toBe(checkoutIdempotencyKey(checkout.id));
    expect(calls[0]!.params).toMatchObject({
      mode: 'payment',
      submit_type: 'donate',
      customer_email: email,
      client_reference_id: donation.id,
      metadata,
      payment_intent_data: { metadata },
      line_items: [{ quantity: '1', price_data: { currency: 'gbp', unit_amount: '2500', product_data: { name: expect.stringContaining(campaign.title) } } }],
      success_url: 'http://localhost:0/checkout/success?session_id={CHECKOUT_SESSION_ID}',
      // Cancelling comes back to the donate form, filled in.
      cancel_url: `http://localhost:0/donate/resume/${donation.id}`,
    });
  });

  it('when the donor gives a campaign slug that is open, then the donation is for that campaign', async () => {
    const slug = `appeal-${Date.now().toString(36)}`;
    const campaign = await app.db
      .insertInto('campaigns')
      .values({ slug, title: 'Printing press appeal', kind: 'special', target: 500000, currency: 'GBP', starts_at: '2026-11-19T00:00:00Z', deadline: '2026-11-21T00:00:00Z' })
      .returningAll()
      .executeTakeFirstOrThrow();
    const res = await app.request('POST', '/api/donations', { json: { amount: 500, email: uniqueEmail(), campaign: slug } });
    expect(res.status, res.text).toBe(201);
    const donation = await app.db.selectFrom('donations').select('campaign_id').where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(donation.campaign_id).toBe(campaign.id);
  });

  const malformed: [string, unknown][] = [
    ['the amount is a string', { amount: '10', email: 'a@example.org' }],
    ['the amount has pence after the point', { amount: 10.5, email: 'a@example.org' }],
    ['the amount is negative', { amount: -500, email: 'a@example.org' }],
    ['the amount is zero', { amount: 0, email: 'a@example.org' }],
    ['the amount is beyond a safe integer', { amount: 2 ** 53, email: 'a@example.org' }],
    ['the amount is huge', { amount: 1e300, email: 'a@example.org' }],
    ['the amount is null', { amount: null, email: 'a@example.org' }],
    ['the amount is missing', { email: 'a@example.org' }],
    ['the email is missing', { amount: 1000 }],
    ['the email is not an email', { amount: 1000, email: 'not-an-email' }],
    ['acknowledge is not a boolean', { amount: 1000, email: 'a@example.org', acknowledge: 'yes' }],
    ['the name is a number', { amount: 1000, email: 'a@example.org', name: 42 }],
    ['the body is an array', [{ amount: 1000, email: 'a@example.org' }]],
  ];
  for (const [scenario, body] of malformed) {
    it(`when ${scenario}, then 400 invalid_request and nothing is stored or sent to Stripe`, async () => {
      const before = await rowCounts(app);
      const stripeCalls = app.stripe.requests.length;
      const res = await app.request('POST', '/api/donations', { json: body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String), details: expect.any(Array) } });
      expect(await rowCounts(app)).toEqual(before);
      expect(app.stripe.requests.length).toBe(stripeCalls);
    });
  }

  it('when the body is not valid JSON, then 400 malformed_json and nothing changes', async () => {
    const before = await rowCounts(app);
    const res = await app.request('POST', '/api/donations', { body: '{"amount": 1000, "email": ', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
    expect(await rowCounts(app)).toEqual(before);
  });

  it('when the body is a bare number, then 400 and nothing changes', async () => {
    const before = await rowCounts(app);
    const res = await app.request('POST', '/api/donations', { json: 1000 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toMatch(/^(malformed_json|invalid_request)$/);
    expect(await rowCounts(app)).toEqual(before);
  });

  it('when there is no body at all, then 400 invalid_request', async () => {
    const res = await app.request('POST', '/api/donations');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });

  const broken: [string, Record<string, unknown>, string, RegExp][] = [
    ['the amount is below the minimum', { amount: 99 }, 'amount_below_minimum', /at least £1\b/],
    ['the amount is above the maximum', { amount: 1_000_001 }, 'amount_above_maximum', /at most £10,000 /],
    ['the campaign does not exist', { campaign: 'no-such-campaign' }, 'campaign_not_found', /no-such-campaign/],
    ['the donor asks to be thanked but gives no name', { acknowledge: true }, 'acknowledgement_needs_name', /name/],
  ];
  for (const [scenario, body, code, message] of broken) {
    it(`when ${scenario}, then 422 ${code} and nothing changes`, async () => {
      const before = await rowCounts(app);
      const stripeCalls = app.stripe.requests.length;
      const res = await app.request('POST', '/api/donations', { json: { amount: 1000, email: uniqueEmail(), ...body } });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code, message: expect.stringMatching(message) });
      expect(await rowCounts(app)).toEqual(before);
      expect(app.stripe.requests.length).toBe(stripeCalls);
    });
  }

  it('when the campaign has passed its deadline, then 422 campaign_closed', async () => {
    const slug = `over-${Date.now().toString(36)}`;
    await app.db
      .insertInto('campaigns')
      .values({ slug, title: 'Last year', kind: 'special', target: 100000, currency: 'GBP', starts_at: '2025-01-01T00:00:00Z', deadline: '2025-01-31T00:00:00Z' })
      .execute();
    const before = await rowCounts(app);
    const res = await app.request('POST', '/api/donations', { json: { amount: 1000, email: uniqueEmail(), campaign: slug } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('campaign_closed');
    expect(await rowCounts(app)).toEqual(before);
  });

  it('when Stripe does not answer, then 502 payment_provider_unavailable and no Checkout Session exists to be paid', async () => {
    app.stripe.failNext('/v1/checkout/sessions', 1, { method: 'POST' });
    const res = await app.request('POST', '/api/donations', { json: { amount: 1000, email: uniqueEmail() } });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('payment_provider_unavailable');
    const stuck = await app.db.selectFrom('checkout_sessions').selectAll().where('status', '=', 'creating').execute();
    expect(stuck.length).toBeGreaterThanOrEqual(1);
    expect(stuck.every((c) => c.stripe_session_id === null && c.url === null)).toBe(true);
  });

  it('when a checkout is retried after Stripe failed, then the retry reuses the idempotency key and one session results', async () => {
    const recordId = (await app.request('POST', '/api/donations', { json: { amount: 700, email: uniqueEmail() } })).body.id as string;
    // A second checkout for another purpose record shows the retry path directly.
    const request = {
      purpose: 'supporter' as const,
      recordId,
      mode: 'payment' as const,
      amount: 700,
      currency: 'GBP',
      lineItems: [{ name: 'Retry', quantity: 1, unitAmount: 700 }],
      customerEmail: 'retry@example.org',
    };
    app.stripe.failNext('/v1/checkout/sessions', 1, { method: 'POST' });
    await expect(createCheckout(app.deps, request)).rejects.toMatchObject({ code: 'payment_provider_unavailable', status: 502 });
    const first = await createCheckout(app.deps, request);
    const again = await createCheckout(app.deps, request);
    expect(again).toEqual(first);
    const calls = app.stripe.requestsTo('/v1/checkout/sessions', 'POST').filter((r) => r.params.client_reference_id === recordId && (r.params.metadata as { purpose?: string }).purpose === 'supporter');
    expect(calls).toHaveLength(2);
    expect(calls[0]!.idempotencyKey).toBe(checkoutIdempotencyKey(first.checkoutId));
    expect(calls[1]!.idempotencyKey).toBe(calls[0]!.idempotencyKey);
    expect(calls.map((c) => c.status)).toEqual([500, 200]);
  });

  it('describes its routes in OpenAPI 3.1 generated from the request schemas', () => {
    const doc = buildOpenApiDocument([donationsOpenApi, webhookOpenApi, checkoutPagesOpenApi], app.config.publicUrl) as unknown as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    };
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/donations', '/checkout/cancelled', '/checkout/success', '/donate', '/donate/resume/{id}', '/webhooks/stripe']);
    expect(doc.paths['/api/donations']!.post!.requestBody!.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/DonationRequest' });
  });

  it('is part of the service-wide GET /api/openapi.json', async () => {
    const res = await app.request('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.paths['/api/donations'].post).toBeDefined();
    expect(res.body.paths['/donate'].post).toBeDefined();
    expect(res.body.paths['/webhooks/stripe'].post).toBeDefined();
    expect(res.body.paths['/checkout/success'].get).toBeDefined();
    expect(res.body.paths['/checkout/cancelled'].get).toBeDefined();
  });
});
