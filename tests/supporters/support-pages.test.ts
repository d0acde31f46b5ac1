import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { becomeSupporter, supporterRow, uniqueEmail } from './supporter-helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

describe('the supporter pages', () => {
  it('when /support is opened, then it offers monthly and yearly with the configured suggested amounts and minimum', async () => {
    const page = await app.request('GET', '/support', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="interval" value="month"');
    expect(page.text).toContain('£5 a month');
    expect(page.text).toContain('At least £3.00 a month');
  });

  it('when the /support form is sent, then the reader goes to Checkout; with a problem, the form comes back with it', async () => {
    const ok = await app.request('POST', '/support', { form: { amount: '7.50', interval: 'year', email: uniqueEmail(), name: 'Pat' } });
    expect(ok.status).toBe(422);
    expect(ok.text).toContain('£30.00 a year');
    const good = await app.request('POST', '/support', { form: { amount: '7.50', interval: 'month', email: uniqueEmail(), name: 'Pat' } });
    expect(good.status).toBe(303);
    const sessionId = app.stripe.sessionIdOf(good.headers.get('location')!);
    expect(app.stripe.sandbox.state.getSession(sessionId)).toMatchObject({ mode: 'subscription', amount_total: 750 });
  });

  it('when /donate is sent with monthly or yearly, then it becomes a subscription; once stays a donation', async () => {
    const page = await app.request('GET', '/donate', { headers: { accept: 'text/html' } });
    expect(page.text).toContain('name="frequency" value="month"');
    const monthly = await app.request('POST', '/donate', { form: { amount: '5', frequency: 'month', email: uniqueEmail(), name: 'Kim' } });
    expect(monthly.status).toBe(303);
    expect(app.stripe.sandbox.state.getSession(app.stripe.sessionIdOf(monthly.headers.get('location')!)).mode).toBe('subscription');
    const once = await app.request('POST', '/donate', { form: { amount: '5', frequency: 'once', email: uniqueEmail() } });
    expect(once.status).toBe(303);
    expect(app.stripe.sandbox.state.getSession(app.stripe.sessionIdOf(once.headers.get('location')!)).mode).toBe('payment');
    const noName = await app.request('POST', '/donate', { form: { amount: '5', frequency: 'year', email: uniqueEmail() } });
    expect(noName.status).toBe(422);
  });

  it('when a supporter opens /account, then the supporter section shows the subscription and its buttons; the form cancels through Stripe', async () => {
    const email = uniqueEmail('acct');
    const { headers } = await signInAs(app, { email });
    const { supporterId } = await becomeSupporter(app, { email, amount: 1500 }, headers);
    const page = await app.request('GET', '/account', { headers: { ...headers, accept: 'text/html' } });
    expect(page.text).toContain('£15.00 a month');
    expect(page.text).toContain('Cancel my support');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const res = await app.request('POST', '/account/supporter', { form: { _csrf: csrf, action: 'cancel' }, headers: { cookie: headers.cookie! } });
    expect(res.status).toBe(303);
    await new Promise((resolve) => setImmediate(resolve));
    await app.stripe.idle();
    await app.drainStripeEvents();
    expect((await supporterRow(app, supporterId)).cancel_at_period_end).toBe(true);
  });
});
