/**
 * Reconciliation with Stripe: a clean period finds nothing; a payment (and a
 * refund) whose webhook never came is found, and repair books it through the
 * webhook's path exactly once however often it is pressed, even when the real
 * event comes late; the local Stripe lists its objects by period, page by page;
 * the daily job emails the treasurer when something is off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileYesterday } from '../../src/admin/reconciliation.service.js';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { ledgerOf, startDonation, uniqueEmail } from '../payments/payment-helpers.js';

describe('reconciliation with Stripe', () => {
  let app: TestApp;
  let headers: Record<string, string>;
  const day = '2026-11-20';
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    ({ headers } = await signInAs(app, { email: uniqueEmail('treasurer'), roles: ['treasurer'] }));
  });
  afterAll(() => app.close());

  const check = (from = day, to = day) => app.request('GET', `/api/admin/reconciliation?from=${from}&to=${to}`, { headers });
  const repair = () => app.request('POST', '/api/admin/reconciliation/repair', { headers, json: { from: day, to: day } });

  it('when every payment of the day reached our books, then nothing is found', async () => {
    const paid = await startDonation(app, { amount: 1500 });
    await app.stripe.pay(paid.sessionId);
    expect(await ledgerOf(app, paid.donationId)).toHaveLength(1);
    const res = await check();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ clean: true, differences: [] });
    expect(res.body.stripe.charges).toBeGreaterThanOrEqual(1);
    const run = await app.db.selectFrom('reconciliation_runs').selectAll().where('id', '=', res.body.runId).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ outcome: 'clean', trigger: 'api', period_from: day, period_to: day });
  });

  it('when a payment’s webhook never came, then it is missing in our books, and repair books it once however often it is pressed', async () => {
    const missed = await startDonation(app, { amount: 2300 });
    // Paid at Stripe; the event is built but never delivered.
    const { events } = app.stripe.sandbox.state.pay(missed.sessionId, 'card');
    expect(await ledgerOf(app, missed.donationId)).toHaveLength(0);

    const found = await check();
    expect(found.body.clean).toBe(false);
    expect(found.body.differences).toEqual([
      expect.objectContaining({ kind: 'missing_in_books', object: 'payment', stripeAmount: 2300, bookedAmount: null, repairable: true }),
    ]);

    const repaired = await repair();
    expect(repaired.status).toBe(200);
    expect(repaired.body.replayed).toEqual([expect.objectContaining({ type: 'checkout.session.completed', recorded: 'recorded' })]);
    expect(repaired.body.after.clean).toBe(true);
    const booked = await ledgerOf(app, missed.donationId);
    expect(booked).toEqual([expect.objectContaining({ kind: 'online_donation', amount: 2300 })]);
    const donation = await app.db.selectFrom('donations').select('status').where('id', '=', missed.donationId).executeTakeFirstOrThrow();
    expect(donation.status).toBe('paid');

    // Pressed again, and the real event arriving late: still one booking.
    const again = await repair();
    expect(again.status).toBe(200);
    expect(again.body.before.clean).toBe(true);
    for (const event of events) await app.deliverWebhook(event);
    expect(await ledgerOf(app, missed.donationId)).toHaveLength(1);
    expect((await check()).body.clean).toBe(true);
    const audit = await app.db.selectFrom('audit_log').select('action').where('action', '=', 'reconciliation.repaired').execute();
    expect(audit.length).toBe(2);
  });

  it('when a refund’s webhook never came, then repair books the refund against its gift', async () => {
    const paid = await startDonation(app, { amount: 4000 });
    await app.stripe.pay(paid.sessionId);
    const charge = app.stripe.sandbox.state.chargeOf(paid.sessionId);
    app.stripe.sandbox.state.moneyBack.createRefund({ charge: charge.id, amount: 1000 });
    const found = await check();
    expect(found.body.differences).toEqual([expect.objectContaining({ kind: 'missing_in_books', object: 'refund', stripeAmount: -1000 })]);
    const repaired = await repair();
    expect(repaired.status, repaired.text).toBe(200);
    expect(repaired.body.after.clean).toBe(true);
    expect((await ledgerOf(app, paid.donationId)).map((e) => e.amount)).toEqual([4000, -1000]);
    await repair();
    expect((await ledgerOf(app, paid.donationId)).map((e) => e.amount)).toEqual([4000, -1000]);
  });

  it('when the local Stripe is asked for a period a page at a time, then every charge of the period comes, and none outside it', async () => {
    const created = { gte: Math.floor(Date.parse('2026-11-20T00:00:00Z') / 1000), lte: Math.floor(Date.parse('2026-11-20T23:59:59Z') / 1000) };
    const pageByPage: string[] = [];
    for await (const c of app.deps.stripe.charges.list({ created, limit: 1 })) pageByPage.push(c.id);
    expect(pageByPage.length).toBe(app.stripe.sandbox.state.charges.size);
    expect(new Set(pageByPage).size).toBe(pageByPage.length);
    const before = await app.deps.stripe.charges.list({ created: { lte: created.gte - 1 } });
    expect(before.data).toEqual([]);
    const refunds = await app.deps.stripe.refunds.list({ created, limit: 100 });
    expect(refunds.data.length).toBe(app.stripe.sandbox.state.moneyBack.refunds.size);
    const disputes = await app.deps.stripe.disputes.list({ created, limit: 100 });
    expect(disputes.data).toEqual([]);
  });

  it('when the Today page is opened after a run found something, then it says so; the reconciliation page shows the run', async () => {
    const missed = await startDonation(app, { amount: 700 });
    app.stripe.sandbox.state.pay(missed.sessionId, 'card');
    const res = await app.request('GET', `/admin/reconciliation?from=${day}&to=${day}`, { headers: { ...headers, accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Missing in our books');
    expect(res.text).toContain('£7.00');
    const today = await app.request('GET', '/admin', { headers: { ...headers, accept: 'text/html' } });
    expect(today.text).toMatch(/\d+ recent runs? found something wrong/);
    const repaired = await app.request('POST', '/admin/reconciliation/repair', { headers: { ...headers, accept: 'text/html' }, form: { from: day, to: day } });
    expect(repaired.status).toBe(303);
    expect(await ledgerOf(app, missed.donationId)).toHaveLength(1);
    expect((await app.request('GET', '/admin', { headers: { ...headers, accept: 'text/html' } })).text).toContain('nothing wrong found lately');
  });
});

describe('the daily reconciliation job', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-19T15:00:00Z' });
  });
  afterAll(() => app.close());

  it('when yesterday has a payment missing in our books, then the treasurer is emailed; a clean day sends nothing', async () => {
    const treasurer = uniqueEmail('treasurer');
    await signInAs(app, { email: treasurer, roles: ['treasurer'] });
    const missed = await startDonation(app, { amount: 1200 });
    app.stripe.sandbox.state.pay(missed.sessionId, 'card');
    app.clock.set(new Date('2026-11-20T06:00:00Z'));
    const report = await reconcileYesterday(app.deps);
    expect(report).toMatchObject({ from: '2026-11-19', clean: false });
    const mails = await app.db.selectFrom('emails').selectAll().where('to_address', '=', treasurer).execute();
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/1 difference on 2026-11-19/);
    expect(mails[0]!.text).toContain('missing in our books');
    expect(mails[0]!.text).toContain('/admin/reconciliation?from=2026-11-19');

    app.clock.set(new Date('2026-11-21T06:00:00Z'));
    expect((await reconcileYesterday(app.deps))?.clean).toBe(true);
    expect(await app.db.selectFrom('emails').selectAll().where('to_address', '=', treasurer).execute()).toHaveLength(1);
  });
});
