import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

const uniqueEmail = () => `stripe-errors-${randomUUID().slice(0, 8)}@example.org`;

describe('when Stripe fails a call, transient and permanent failures are told apart', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
  });
  afterAll(() => app.close());

  async function donateWhileStripeAnswers(status: number) {
    app.stripe.failNext('/v1/checkout/sessions', 1, { method: 'POST', status });
    const logsBefore = app.logs.length;
    const res = await app.request('POST', '/api/donations', { json: { amount: 1000, email: uniqueEmail() } });
    return { res, logs: app.logs.slice(logsBefore) };
  }

  it.each([400, 401, 403])('when Stripe refuses the request (%i), then 502 payment_provider_error, logged as an error, and no "try again"', async (status) => {
    const { res, logs } = await donateWhileStripeAnswers(status);
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('payment_provider_error');
    expect(res.body.error.message).not.toMatch(/try again in a minute/);
    const logged = logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Stripe refused the request'));
    expect(logged?.level).toBe(50);
    expect((logged as { stripeError?: { statusCode?: number } }).stripeError?.statusCode).toBe(status);
  });

  it.each([500, 429])('when Stripe is unavailable (%i), then 502 payment_provider_unavailable, try again in a minute, logged as a warning', async (status) => {
    const { res, logs } = await donateWhileStripeAnswers(status);
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('payment_provider_unavailable');
    expect(res.body.error.message).toMatch(/try again in a minute/);
    const logged = logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Stripe is unavailable'));
    expect(logged?.level).toBe(40);
    // A retry works once Stripe answers.
    expect((await app.request('POST', '/api/donations', { json: { amount: 1000, email: uniqueEmail() } })).status).toBe(201);
  });
});
