import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventResult } from '../payments/payment-helpers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { becomeSupporter, deliver, emailsTo, invoiceEntries, payWithoutDelivery, startSupporter, supporterRow } from './supporter-helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const entriesOf = async (subscriptionId: string) => {
  const invoices = [...app.stripe.sandbox.state.billing.invoices.values()].filter((i) => i.parent.subscription_details.subscription === subscriptionId).map((i) => `invoice:${i.id}`);
  return (await invoiceEntries(app)).filter((e) => invoices.includes(e.stripe_key ?? '') || e.original_entry_id !== null);
};

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('mirroring a subscription', () => {
  it('when checkout, subscription.created and invoice.paid arrive in every order, twice each, then the end state is the same: active, booked once, one welcome and one receipt', async () => {
    const orders = permutations([0, 1, 2]);
    for (const order of orders) {
      const { supporterId, sessionId, email } = await startSupporter(app, { amount: 600 });
      const { events, subscriptionId } = payWithoutDelivery(app, sessionId);
      const shuffled = order.map((i) => events[i]!);
      await deliver(app, [...shuffled, ...shuffled]);
      const row = await supporterRow(app, supporterId);
      expect(row, `order ${order.join(',')}`).toMatchObject({ status: 'active', stripe_subscription_id: subscriptionId, amount: 600 });
      const booked = (await invoiceEntries(app)).filter((e) => e.stripe_key === `invoice:${[...app.stripe.sandbox.state.billing.invoices.values()].find((i) => i.parent.subscription_details.subscription === subscriptionId)!.id}`);
      expect(booked.map((e) => e.amount)).toEqual([600]);
      expect((await emailsTo(app, email)).map((e) => e.template).sort()).toEqual(['supporters/receipt', 'supporters/welcome']);
    }
  });

  it('when the subscription renews twice, then each invoice is booked once, to the campaign current when it was paid, and the period moves on', async () => {
    const { supporterId, subscriptionId, email } = await becomeSupporter(app, { amount: 900 });
    const first = await supporterRow(app, supporterId);
    app.clock.advance(31 * 24 * 3600 * 1000);
    await app.stripe.sandbox.renewSubscription(subscriptionId);
    app.clock.advance(31 * 24 * 3600 * 1000);
    const { events } = await app.stripe.sandbox.renewSubscription(subscriptionId);
    await deliver(app, events);
    const row = await supporterRow(app, supporterId);
    expect(row.current_period_end!.getTime()).toBeGreaterThan(first.current_period_end!.getTime());
    const entries = await entriesOf(subscriptionId);
    expect(entries.filter((e) => e.kind === 'supporter_payment').map((e) => e.amount)).toEqual([900, 900, 900]);
    expect(new Set(entries.map((e) => e.campaign_id)).size).toBe(3);
    expect((await emailsTo(app, email)).filter((e) => e.template === 'supporters/receipt')).toHaveLength(3);
    app.clock.set(new Date());
  });

  it('when a renewal fails and the card is then fixed, then the supporter is past_due with an email to fix it, then active with the payment booked', async () => {
    const { supporterId, subscriptionId, email } = await becomeSupporter(app, { amount: 400 });
    app.stripe.sandbox.failNextPayment(subscriptionId);
    await app.stripe.sandbox.renewSubscription(subscriptionId);
    expect((await supporterRow(app, supporterId)).status).toBe('past_due');
    const failed = (await emailsTo(app, email)).filter((e) => e.template === 'supporters/payment-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.text).toContain('/invoices/in_');
    expect(failed[0]!.text).toContain('/supporter/manage?token=');
    expect((await entriesOf(subscriptionId)).length).toBe(1);
    await app.stripe.sandbox.recoverSubscription(subscriptionId);
    expect((await supporterRow(app, supporterId)).status).toBe('active');
    expect((await entriesOf(subscriptionId)).map((e) => e.amount)).toEqual([400, 400]);
  });

  it('when a renewal fails and Stripe gives up, then the supporter is canceled and told the support has stopped and how to restart it', async () => {
    const { supporterId, subscriptionId, email } = await becomeSupporter(app, { amount: 400 });
    app.stripe.sandbox.failNextPayment(subscriptionId);
    await app.stripe.sandbox.renewSubscription(subscriptionId);
    await app.stripe.sandbox.cancelSubscription(subscriptionId);
    const row = await supporterRow(app, supporterId);
    expect(row.status).toBe('canceled');
    expect(row.ended_at).not.toBeNull();
    const ended = (await emailsTo(app, email)).filter((e) => e.template === 'supporters/ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]!.subject).toContain('stopped');
    expect(ended[0]!.text).toContain('/support');
  });

  it('when a late, older customer.subscription.updated arrives after a newer one, then the newer state stays and the older event is ignored', async () => {
    const { supporterId, subscriptionId } = await becomeSupporter(app, { amount: 500 });
    const subscription = structuredClone(app.stripe.sandbox.state.billing.getSubscription(subscriptionId));
    const base = Math.floor(app.clock.now().getTime() / 1000);
    const event = (created: number, changes: object) => ({
      id: `evt_${randomBytes(8).toString('hex')}`,
      object: 'event',
      api_version: '2026-10-28.endive',
      created,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'customer.subscription.updated',
      data: { object: { ...subscription, ...changes } },
    });
    const newer = event(base + 120, { cancel_at_period_end: true });
    const older = event(base + 60, { cancel_at_period_end: false, status: 'past_due' });
    await deliver(app, [newer, older]);
    const row = await supporterRow(app, supporterId);
    expect(row).toMatchObject({ status: 'active', cancel_at_period_end: true });
    expect(row.state_at!.getTime()).toBe((base + 120) * 1000);
    expect((await eventResult(app, older.id))?.outcome).toBe('ignored');
  });

  it('when two events of the same second arrive, then the subscription is fetched from Stripe and its current state applied', async () => {
    const { supporterId, subscriptionId } = await becomeSupporter(app, { amount: 500 });
    const subscription = structuredClone(app.stripe.sandbox.state.billing.getSubscription(subscriptionId));
    const at = Math.floor(app.clock.now().getTime() / 1000) + 300;
    const make = (changes: object) => ({
      id: `evt_${randomBytes(8).toString('hex')}`,
      object: 'event',
      api_version: '2026-10-28.endive',
      created: at,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'customer.subscription.updated',
      data: { object: { ...subscription, ...changes } },
    });
    // Stripe's truth: paused. The two events disagree and carry the same second.
    app.stripe.sandbox.state.billing.update(subscriptionId, { pause_collection: { behavior: 'void' } });
    await deliver(app, [make({ pause_collection: { behavior: 'void', resumes_at: null } }), make({ pause_collection: null })]);
    expect(app.stripe.requestsTo(`/v1/subscriptions/${subscriptionId}`, 'GET').length).toBeGreaterThan(0);
    expect((await supporterRow(app, supporterId)).paused).toBe(true);
  });

  it('when events are about a subscription or invoice this service did not create, then they are acknowledged and ignored', async () => {
    const { subscriptionId } = await becomeSupporter(app, { amount: 500 });
    const subscription = structuredClone(app.stripe.sandbox.state.billing.getSubscription(subscriptionId));
    const foreign = { ...subscription, id: `sub_shop${randomBytes(6).toString('hex')}`, metadata: { order: '42' } };
    const forged = { ...subscription, id: `sub_forged${randomBytes(6).toString('hex')}`, metadata: { ...subscription.metadata, record_id: '00000000-0000-4000-8000-000000000000' } };
    const invoice = { ...structuredClone([...app.stripe.sandbox.state.billing.invoices.values()][0]!), id: `in_shop${randomBytes(6).toString('hex')}`, parent: { type: 'subscription_details', subscription_details: { subscription: foreign.id, metadata: {} } } };
    const before = (await invoiceEntries(app)).length;
    const events = [
      { id: `evt_${randomBytes(8).toString('hex')}`, object: 'event', created: 1, type: 'customer.subscription.updated', livemode: false, data: { object: foreign } },
      { id: `evt_${randomBytes(8).toString('hex')}`, object: 'event', created: 1, type: 'customer.subscription.deleted', livemode: false, data: { object: forged } },
      { id: `evt_${randomBytes(8).toString('hex')}`, object: 'event', created: 1, type: 'invoice.paid', livemode: false, data: { object: invoice } },
    ];
    for (const e of events) {
      const res = await app.deliverWebhook(e);
      expect(res.status).toBe(200);
      expect((await eventResult(app, e.id))?.outcome).toBe('ignored');
    }
    expect((await invoiceEntries(app)).length).toBe(before);
    expect(app.stripe.requestsTo('/v1/invoice_payments', 'GET').filter((r) => r.params.invoice === invoice.id)).toHaveLength(0);
  });

  it('when a subscription payment is refunded or disputed, then its fund entry is reversed like any gift\'s', async () => {
    const { subscriptionId } = await becomeSupporter(app, { amount: 1200 });
    const state = app.stripe.sandbox.state;
    const invoiceId = state.billing.getSubscription(subscriptionId).latest_invoice!;
    const { events } = state.moneyBack.createRefund({ charge: state.billing.chargeOfInvoice(invoiceId), amount: 200 });
    await deliver(app, events);
    const entries = (await invoiceEntries(app)).filter((e) => e.stripe_key === `invoice:${invoiceId}` || e.stripe_key?.startsWith('refund:'));
    const payment = entries.find((e) => e.stripe_key === `invoice:${invoiceId}`)!;
    const refund = entries.find((e) => e.original_entry_id === payment.id)!;
    expect(refund).toMatchObject({ kind: 'refund', amount: -200, campaign_id: payment.campaign_id });
    // Delivered again: booked once.
    await deliver(app, events);
    expect((await invoiceEntries(app)).filter((e) => e.original_entry_id === payment.id)).toHaveLength(1);
  });
});

describe('when supporter payments do not count toward the fund', () => {
  it('then an invoice is mirrored and receipted but never booked to the ledger', async () => {
    const other = await startTestApp({ env: { SUPPORTER_PAYMENTS_COUNT_TOWARD_FUND: 'false' } });
    try {
      const { supporterId, email } = await becomeSupporter(other, { amount: 500 });
      expect((await supporterRow(other, supporterId)).status).toBe('active');
      expect(await invoiceEntries(other)).toHaveLength(0);
      expect((await emailsTo(other, email)).map((e) => e.template)).toContain('supporters/receipt');
    } finally {
      await other.close();
    }
  });
});
