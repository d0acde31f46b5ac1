import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { becomeSupporter, emailsTo, invoiceEntries, startSupporter, supporterRow, uniqueEmail } from './supporter-helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

describe('becoming a supporter', () => {
  it('when a reader signs up monthly, then Checkout is opened in subscription mode with our ids, the amount and an idempotency key', async () => {
    const { supporterId, sessionId } = await startSupporter(app, { amount: 700, interval: 'month' });
    const call = app.stripe.requestsTo('/v1/checkout/sessions', 'POST').at(-1)!;
    expect(call.params.mode).toBe('subscription');
    expect(call.params.client_reference_id).toBe(supporterId);
    expect((call.params.metadata as Record<string, string>).record_id).toBe(supporterId);
    expect((call.params.subscription_data as { metadata: Record<string, string> }).metadata.purpose).toBe('supporter');
    const priceData = (call.params.line_items as { price_data: { unit_amount: string; recurring: { interval: string } } }[])[0]!.price_data;
    expect(priceData).toMatchObject({ unit_amount: '700', recurring: { interval: 'month' } });
    expect(call.idempotencyKey).toMatch(/^checkout-session:/);
    expect(sessionId).toMatch(/^cs_/);
    expect((await supporterRow(app, supporterId)).status).toBe('incomplete');
  });

  it('when the amount is under the minimum, then 422 amount_below_minimum and nothing is recorded', async () => {
    const before = await app.db.selectFrom('supporters').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const res = await app.request('POST', '/api/supporters', { json: { amount: 299, interval: 'month', email: uniqueEmail(), name: 'A' } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('amount_below_minimum');
    const after = await app.db.selectFrom('supporters').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('when the checkout is paid, then the supporter is active, the first invoice is booked once to the fund, and a welcome and a receipt are emailed', async () => {
    const before = (await invoiceEntries(app)).length;
    const { supporterId, email, events } = await becomeSupporter(app, { amount: 1000 });
    const row = await supporterRow(app, supporterId);
    expect(row).toMatchObject({ status: 'active', amount: 1000, interval: 'month', cancel_at_period_end: false, paused: false });
    expect(row.current_period_end).not.toBeNull();
    const entries = (await invoiceEntries(app)).slice(before);
    expect(entries.map((e) => [e.kind, e.amount])).toEqual([['supporter_payment', 1000]]);
    expect(entries[0]!.stripe_key).toMatch(/^invoice:in_/);
    const templates = (await emailsTo(app, email)).map((e) => e.template).sort();
    expect(templates).toEqual(['supporters/receipt', 'supporters/welcome']);
    // Every event again, as Stripe's retries would: nothing more.
    for (const e of events) await app.deliverWebhook(e);
    expect((await invoiceEntries(app)).length).toBe(before + 1);
    expect((await emailsTo(app, email)).length).toBe(2);
  });

  it('when a signed-in supporter signs up again, then 409 already_supporting', async () => {
    const email = uniqueEmail('again');
    const { headers } = await signInAs(app, { email });
    await becomeSupporter(app, { email }, headers);
    const res = await app.request('POST', '/api/supporters', { json: { amount: 500, interval: 'month', email, name: 'Again' }, headers });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('already_supporting');
  });

  it('when an address that already supports signs up anonymously, then the answer is the same as a new address\'s, and the address is told it now has two', async () => {
    const email = uniqueEmail('twice');
    await becomeSupporter(app, { email });
    const known = await app.request('POST', '/api/supporters', { json: { amount: 500, interval: 'month', email, name: 'Twice' } });
    const fresh = await app.request('POST', '/api/supporters', { json: { amount: 500, interval: 'month', email: uniqueEmail('fresh'), name: 'Twice' } });
    expect(known.status).toBe(fresh.status);
    expect(Object.keys(known.body).sort()).toEqual(Object.keys(fresh.body).sort());
    await app.stripe.pay(app.stripe.sessionIdOf(known.body.checkoutUrl));
    const notice = (await emailsTo(app, email)).filter((e) => e.template === 'supporters/two-subscriptions');
    expect(notice).toHaveLength(1);
    expect(notice[0]!.text.match(/supporter\/manage\?token=/g)).toHaveLength(2);
  });
});
