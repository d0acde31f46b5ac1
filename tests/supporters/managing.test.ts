import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { becomeSupporter, emailsTo, manageTokenFrom, supporterRow, uniqueEmail } from './supporter-helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

/** Stripe answers the API call first and sends its webhook just after: wait for that delivery to be applied. */
async function webhooksSettled() {
  await new Promise((resolve) => setImmediate(resolve));
  await app.stripe.idle();
  await app.drainStripeEvents();
}

async function signedInSupporter(body: Record<string, unknown> = {}) {
  const email = uniqueEmail('manager');
  const { headers } = await signInAs(app, { email });
  const started = await becomeSupporter(app, { email, ...body }, headers);
  return { ...started, headers };
}

describe('managing one\'s support from the account', () => {
  it('when the signed-in supporter reads GET /api/me, then the supporter part shows the subscription', async () => {
    const { headers } = await signedInSupporter({ amount: 8000, interval: 'year' });
    const me = await app.request('GET', '/api/me', { headers });
    expect(me.status).toBe(200);
    expect(me.body.supporter).toMatchObject({ status: 'active', amount: 8000, interval: 'year', cancelAtPeriodEnd: false, paused: false });
    expect(typeof me.body.supporter.currentPeriodEnd).toBe('string');
  });

  it('when the amount is changed, then Stripe is asked with no proration, it shows as pending, and the webhook confirms it; the next invoice is at the new amount', async () => {
    const { supporterId, subscriptionId, headers, email } = await signedInSupporter({ amount: 500 });
    const res = await app.request('PATCH', '/api/me/supporter', { json: { amount: 750 }, headers });
    expect(res.status, res.text).toBe(200);
    expect(res.body.pending).toMatchObject({ amount: 750 });
    const call = app.stripe.requestsTo(`/v1/subscriptions/${subscriptionId}`, 'POST').at(-1)!;
    expect(call.params.proration_behavior).toBe('none');
    expect(call.params.trial_end).toBeUndefined();
    expect(call.idempotencyKey).toMatch(/^supporter-change:/);
    await webhooksSettled();
    const row = await supporterRow(app, supporterId);
    expect(row).toMatchObject({ amount: 750, pending_change: null });
    expect((await emailsTo(app, email)).map((e) => e.template)).toContain('supporters/changed');
    const { events } = await app.stripe.sandbox.renewSubscription(subscriptionId);
    expect((events.find((e) => e.type === 'invoice.paid')!.data.object as { amount_paid: number }).amount_paid).toBe(750);
  });

  it('when the interval is changed, then the change waits for the end of the period already paid for (nothing charged now)', async () => {
    const { supporterId, subscriptionId, headers } = await signedInSupporter({ amount: 500 });
    const before = await supporterRow(app, supporterId);
    const res = await app.request('PATCH', '/api/me/supporter', { json: { amount: 5000, interval: 'year' }, headers });
    expect(res.status, res.text).toBe(200);
    const call = app.stripe.requestsTo(`/v1/subscriptions/${subscriptionId}`, 'POST').at(-1)!;
    expect(Number(call.params.trial_end)).toBe(Math.floor(before.current_period_end!.getTime() / 1000));
    await webhooksSettled();
    expect(await supporterRow(app, supporterId)).toMatchObject({ amount: 5000, interval: 'year' });
    expect(app.stripe.sandbox.state.billing.invoicePayments.size).toBeGreaterThan(0);
    const paidForSubscription = [...app.stripe.sandbox.state.billing.invoices.values()].filter((i) => i.parent.subscription_details.subscription === subscriptionId && i.status === 'paid');
    expect(paidForSubscription).toHaveLength(1);
  });

  it('when the supporter pauses and resumes, then each is pending until Stripe confirms it', async () => {
    const { supporterId, headers } = await signedInSupporter();
    const paused = await app.request('PATCH', '/api/me/supporter', { json: { pause: true }, headers });
    expect(paused.body.pending).toMatchObject({ pause: true });
    await webhooksSettled();
    expect(await supporterRow(app, supporterId)).toMatchObject({ paused: true, pending_change: null });
    const resumed = await app.request('PATCH', '/api/me/supporter', { json: { pause: false }, headers });
    expect(resumed.body.pending).toMatchObject({ pause: false });
    await webhooksSettled();
    expect(await supporterRow(app, supporterId)).toMatchObject({ paused: false, pending_change: null });
  });

  it('when the supporter cancels and then undoes it, then the subscription ends at the period end, then carries on', async () => {
    const { supporterId, subscriptionId, headers } = await signedInSupporter();
    expect((await app.request('PATCH', '/api/me/supporter', { json: { cancel: true }, headers })).status).toBe(200);
    await webhooksSettled();
    expect(await supporterRow(app, supporterId)).toMatchObject({ cancel_at_period_end: true, status: 'active' });
    expect((await app.request('PATCH', '/api/me/supporter', { json: { cancel: false }, headers })).status).toBe(200);
    await webhooksSettled();
    expect(await supporterRow(app, supporterId)).toMatchObject({ cancel_at_period_end: false });
    // Cancelled again and the period ends: nothing more is charged.
    await app.request('PATCH', '/api/me/supporter', { json: { cancel: true }, headers });
    await webhooksSettled();
    const { events } = await app.stripe.sandbox.renewSubscription(subscriptionId);
    expect(events.map((e) => e.type)).toEqual(['customer.subscription.deleted']);
    expect((await supporterRow(app, supporterId)).status).toBe('canceled');
  });

  it('when the same change is asked twice, then 422 nothing_to_change the second time after it applied, and bad input is 400', async () => {
    const { headers } = await signedInSupporter();
    expect((await app.request('PATCH', '/api/me/supporter', { json: { pause: false }, headers })).body.error.code).toBe('nothing_to_change');
    expect((await app.request('PATCH', '/api/me/supporter', { json: { amount: 'lots' }, headers })).status).toBe(400);
    expect((await app.request('PATCH', '/api/me/supporter', { json: { amount: 100 }, headers })).body.error.code).toBe('amount_below_minimum');
  });

  it('when Stripe does not answer, then 502 and nothing is pending', async () => {
    const { supporterId, subscriptionId, headers } = await signedInSupporter();
    app.stripe.failNext(`/v1/subscriptions/${subscriptionId}`, 3, { method: 'POST' });
    const res = await app.request('PATCH', '/api/me/supporter', { json: { cancel: true }, headers });
    expect(res.status).toBe(502);
    expect((await supporterRow(app, supporterId)).pending_change).toBeNull();
  });

  it('when someone without a subscription asks to change one, then 404 not_a_supporter; without a session, 401', async () => {
    const { headers } = await signInAs(app, { email: uniqueEmail('nobody') });
    expect((await app.request('PATCH', '/api/me/supporter', { json: { cancel: true }, headers })).body.error.code).toBe('not_a_supporter');
    expect((await app.request('PATCH', '/api/me/supporter', { json: { cancel: true } })).status).toBe(401);
  });

  it('when the supporter asks for the billing portal, then a Customer Portal session for their customer returns to /account', async () => {
    const { headers, sessionId } = await signedInSupporter();
    const res = await app.request('POST', '/api/me/billing-portal', { headers });
    expect(res.status, res.text).toBe(200);
    expect(res.body.url).toContain('/portal/bps_');
    const call = app.stripe.requestsTo('/v1/billing_portal/sessions', 'POST').at(-1)!;
    expect(call.params.customer).toBe(app.stripe.sandbox.state.getSession(sessionId).customer);
    expect(call.params.return_url).toBe(`${app.config.publicUrl}/account`);
  });
});

describe('the one-click link in every supporter email', () => {
  it('when the link is opened (GET), then a page shows the subscription and nothing changes; a POST cancels; the same link again is refused', async () => {
    const { supporterId, subscriptionId, email } = await becomeSupporter(app);
    const token = await manageTokenFrom(app, email, 'supporters/receipt');
    const callsBefore = app.stripe.requestsTo(`/v1/subscriptions/${subscriptionId}`, 'POST').length;
    const page = await app.request('GET', `/supporter/manage?token=${token}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Cancel my support');
    const again = await app.request('GET', `/supporter/manage?token=${token}`, { headers: { accept: 'text/html' } });
    expect(again.status).toBe(200);
    expect(app.stripe.requestsTo(`/v1/subscriptions/${subscriptionId}`, 'POST').length).toBe(callsBefore);
    expect((await supporterRow(app, supporterId)).cancel_at_period_end).toBe(false);

    const done = await app.request('POST', '/supporter/manage', { form: { token, action: 'cancel' } });
    expect(done.status).toBe(200);
    await webhooksSettled();
    expect((await supporterRow(app, supporterId)).cancel_at_period_end).toBe(true);

    const replay = await app.request('POST', '/supporter/manage', { form: { token, action: 'undo_cancel' } });
    expect(replay.status).toBe(409);
    expect(replay.text).toContain('already been used');
    expect((await supporterRow(app, supporterId)).cancel_at_period_end).toBe(true);
  });

  it('when the link is tampered with, then it is refused and nothing changes', async () => {
    const { supporterId, email } = await becomeSupporter(app);
    const token = await manageTokenFrom(app, email, 'supporters/welcome');
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url')}.${s}`;
    for (const bad of [forged, `${token}x`, 'not-a-token']) {
      expect((await app.request('POST', '/supporter/manage', { form: { token: bad, action: 'cancel' } })).status).toBe(400);
      expect((await app.request('GET', `/supporter/manage?token=${bad}`)).status).toBe(400);
    }
    expect((await supporterRow(app, supporterId)).pending_change).toBeNull();
  });

  it('when the link is older than 30 days, then it is refused as expired', async () => {
    const { supporterId, email } = await becomeSupporter(app);
    const token = await manageTokenFrom(app, email, 'supporters/welcome');
    app.clock.advance(31 * 24 * 3600 * 1000);
    try {
      const res = await app.request('POST', '/supporter/manage', { form: { token, action: 'cancel' } });
      expect(res.status).toBe(400);
      expect(res.text).toContain('expired');
      expect((await supporterRow(app, supporterId)).pending_change).toBeNull();
    } finally {
      app.clock.set(new Date());
    }
  });
});
