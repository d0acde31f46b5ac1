/**
 * A refund or dispute of a supporter's payment that Stripe delivers before the
 * payment's own invoice.paid (Stripe does not promise order): the invoice is found
 * through Stripe (which invoice the PaymentIntent paid, and its subscription), its
 * payment booked first exactly as invoice.paid books it, then the money going back;
 * the late invoice.paid finds it booked.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxEvent } from '../../src/payments/sandbox/sandbox.js';
import { signInAs } from '../support/auth.js';
import { eventResult } from '../payments/payment-helpers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { becomeSupporter, deliver, emailsTo, payWithoutDelivery, startSupporter, supporterRow } from './supporter-helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: '2026-11-10T10:00:00Z' });
});
afterAll(async () => {
  await app.close();
});

const billing = () => app.stripe.sandbox.state.billing;
const ofType = (events: SandboxEvent[], type: string) => events.filter((e) => e.type === type);

/** The ledger entries of one invoice: its payment and whatever takes money back from it. */
async function entriesOfInvoice(invoiceId: string) {
  const payment = await app.db.selectFrom('ledger_entries').selectAll().where('stripe_key', '=', `invoice:${invoiceId}`).execute();
  const back = payment[0] ? await app.db.selectFrom('ledger_entries').selectAll().where('original_entry_id', '=', payment[0].id).orderBy('id').execute() : [];
  return { payment, back, net: [...payment, ...back].reduce((sum, e) => sum + e.amount, 0) };
}

/** What the public fund figures say a campaign raised (0 before any money made the month's campaign). */
async function raised(slug: string): Promise<number> {
  const res = await app.request('GET', `/api/fighting-fund/${slug}`);
  if (res.status === 404 && res.body.error.code === 'campaign_not_found') return 0;
  expect(res.status, res.text).toBe(200);
  return res.body.raised as number;
}

const receiptsFor = async (email: string, invoiceId: string) => (await emailsTo(app, email)).filter((e) => e.template === 'supporters/receipt' && e.text.includes(invoiceId));

/** A renewal Stripe has made, its events held back: the test decides when each arrives. */
function renewWithoutDelivery(subscriptionId: string) {
  const { events } = billing().renew(subscriptionId);
  const invoiceId = billing().getSubscription(subscriptionId).latest_invoice!;
  return { invoiceId, chargeId: billing().chargeOfInvoice(invoiceId), invoicePaid: ofType(events, 'invoice.paid'), others: events.filter((e) => e.type !== 'invoice.paid') };
}

/** The same event as Stripe would send it again under another id (a replay, a second endpoint): applied afresh. */
const copyOf = (event: SandboxEvent) => ({ ...structuredClone(event), id: `evt_${randomBytes(12).toString('hex')}` });

describe('a refund or dispute of a supporter\'s payment that arrives before its invoice.paid', () => {
  it('when a renewal is refunded and charge.refunded arrives first, then the payment is booked once to the campaign current when it was paid and the refund once against it; invoice.paid late, and again, changes nothing', async () => {
    app.clock.set('2026-11-10T10:00:00Z');
    const { subscriptionId, email } = await becomeSupporter(app, { amount: 800, name: 'Rita Renewal', acknowledge: true });
    app.clock.set('2026-12-10T10:00:00Z');
    const renewal = renewWithoutDelivery(subscriptionId);
    await deliver(app, renewal.others);
    const paidAt = new Date('2026-12-10T10:00:00Z');

    app.clock.set('2027-01-12T09:00:00Z');
    const decemberBefore = await raised('2026-12');
    const januaryBefore = await raised('2027-01');
    const { refund, events } = app.stripe.sandbox.state.moneyBack.createRefund({ charge: renewal.chargeId });
    await deliver(app, events);

    expect((await eventResult(app, events[0]!.id))?.outcome).toBe('applied');
    const booked = await entriesOfInvoice(renewal.invoiceId);
    expect(booked.payment).toHaveLength(1);
    const december = await app.db.selectFrom('campaigns').selectAll().where('slug', '=', '2026-12').executeTakeFirstOrThrow();
    // Booked as invoice.paid books it: to the campaign current when Stripe marked it paid, thanked by name as asked.
    expect(booked.payment[0]).toMatchObject({ kind: 'supporter_payment', amount: 800, source_ref: renewal.invoiceId, campaign_id: december.id, acknowledged: true });
    expect(booked.payment[0]!.given_at.getTime()).toBe(paidAt.getTime());
    expect(booked.back.map((e) => [e.kind, e.amount, e.stripe_key, e.campaign_id])).toEqual([['refund', -800, `refund:${refund.id}`, december.id]]);
    expect(booked.net).toBe(0);
    // Given and taken back in December's campaign: its total is where it was; January's is untouched.
    expect(await raised('2026-12')).toBe(decemberBefore);
    expect(await raised('2027-01')).toBe(januaryBefore);
    const link = await app.db.selectFrom('checkout_payments').selectAll().where('invoice_id', '=', renewal.invoiceId).executeTakeFirstOrThrow();
    expect(link).toMatchObject({ charge_id: renewal.chargeId, amount: 800 });
    expect(await receiptsFor(email, renewal.invoiceId)).toHaveLength(1);
    // Stripe was asked which invoice the PaymentIntent paid, outside the event's transaction.
    expect(app.stripe.requestsTo('/v1/invoice_payments', 'GET').filter((r) => JSON.stringify(r.params).includes(link.payment_intent_id))).toHaveLength(1);

    // The invoice's own event, late, then again, then a copy under another id: nothing more.
    await deliver(app, [...renewal.invoicePaid, ...renewal.invoicePaid, ...renewal.invoicePaid.map(copyOf)]);
    expect((await eventResult(app, renewal.invoicePaid[0]!.id))?.outcome).toBe('applied');
    const after = await entriesOfInvoice(renewal.invoiceId);
    expect(after.payment.map((e) => e.id)).toEqual(booked.payment.map((e) => e.id));
    expect(after.back.map((e) => e.id)).toEqual(booked.back.map((e) => e.id));
    expect(await raised('2026-12')).toBe(decemberBefore);
    expect(await receiptsFor(email, renewal.invoiceId)).toHaveLength(1);
    // And the refund's event again: nothing more either.
    await deliver(app, events.map(copyOf));
    expect((await entriesOfInvoice(renewal.invoiceId)).back).toHaveLength(1);

    // The treasurer sees the payment and its refund in December's ledger.
    const { headers } = await signInAs(app, { email: `treasurer-${randomBytes(4).toString('hex')}@example.org`, roles: ['treasurer'] });
    const page = await app.request('GET', '/admin/ledger?campaign=2026-12', { headers: { ...headers, accept: 'text/html' } });
    expect(page.status).toBe(200);
    const rows = page.text.split('<tr>');
    expect(rows.find((r) => r.includes(`>${renewal.invoiceId}<`))).toMatch(/Supporter payment[\s\S]*£8\.00/);
    expect(rows.find((r) => r.includes(`>${refund.id}<`))).toMatch(/Refund[\s\S]*-£8\.00/);
    const csv = await app.request('GET', '/api/admin/ledger.csv?campaign=2026-12', { headers });
    const lines = csv.text.split('\n');
    expect(lines.filter((l) => l.includes(`invoice:${renewal.invoiceId}`))).toEqual([expect.stringContaining(',2026-12,supporter_payment,,800,GBP,')]);
    expect(lines.filter((l) => l.includes(`refund:${refund.id}`))).toEqual([expect.stringContaining(`,2026-12,refund,,-800,GBP,`)]);
  });

  it('when the first payment is refunded in part before any of its checkout\'s events arrive, then the payment and the refund are booked; the checkout\'s events, late and twice, make the supporter active and book nothing more', async () => {
    app.clock.set('2026-11-12T10:00:00Z');
    const { supporterId, sessionId, email } = await startSupporter(app, { amount: 600 });
    const { events: checkoutEvents, subscriptionId } = payWithoutDelivery(app, sessionId);
    const invoiceId = billing().getSubscription(subscriptionId).latest_invoice!;
    const { refund, events } = app.stripe.sandbox.state.moneyBack.createRefund({ charge: billing().chargeOfInvoice(invoiceId), amount: 200 });
    await deliver(app, events);
    expect((await eventResult(app, events[0]!.id))?.outcome).toBe('applied');
    const booked = await entriesOfInvoice(invoiceId);
    expect(booked.payment.map((e) => [e.kind, e.amount])).toEqual([['supporter_payment', 600]]);
    expect(booked.back.map((e) => [e.kind, e.amount, e.stripe_key])).toEqual([['refund', -200, `refund:${refund.id}`]]);

    await deliver(app, [...checkoutEvents, ...checkoutEvents]);
    expect(await supporterRow(app, supporterId)).toMatchObject({ status: 'active', stripe_subscription_id: subscriptionId });
    const after = await entriesOfInvoice(invoiceId);
    expect(after.payment.map((e) => e.id)).toEqual(booked.payment.map((e) => e.id));
    expect(after.back.map((e) => e.id)).toEqual(booked.back.map((e) => e.id));
    expect(after.net).toBe(400);
    expect((await emailsTo(app, email)).map((e) => e.template).sort()).toEqual(['supporters/receipt', 'supporters/welcome']);
  });

  it('when a renewal is disputed and the funds are withdrawn before its invoice.paid, then the payment is booked once and the dispute once against it; invoice.paid late changes nothing, and a won dispute gives the money back', async () => {
    app.clock.set('2026-11-14T10:00:00Z');
    const { subscriptionId, email } = await becomeSupporter(app, { amount: 700 });
    app.clock.set('2026-12-14T10:00:00Z');
    const renewal = renewWithoutDelivery(subscriptionId);
    await deliver(app, renewal.others);

    app.clock.set('2026-12-20T10:00:00Z');
    const before = await raised('2026-12');
    const { dispute, events } = app.stripe.sandbox.state.moneyBack.disputeCharge(renewal.chargeId);
    expect(events.map((e) => e.type)).toEqual(['charge.dispute.created', 'charge.dispute.funds_withdrawn']);
    await deliver(app, events);
    for (const e of events) expect((await eventResult(app, e.id))?.outcome).toBe('applied');
    const booked = await entriesOfInvoice(renewal.invoiceId);
    expect(booked.payment.map((e) => [e.kind, e.amount])).toEqual([['supporter_payment', 700]]);
    expect(booked.payment[0]!.given_at.toISOString()).toBe('2026-12-14T10:00:00.000Z');
    expect(booked.back.map((e) => [e.kind, e.amount, e.stripe_key, e.campaign_id])).toEqual([['dispute', -700, `dispute:${dispute.id}`, booked.payment[0]!.campaign_id]]);
    expect(await raised('2026-12')).toBe(before);

    await deliver(app, [...renewal.invoicePaid, ...renewal.invoicePaid.map(copyOf), ...renewal.invoicePaid.map(copyOf)]);
    const after = await entriesOfInvoice(renewal.invoiceId);
    expect(after.payment.map((e) => e.id)).toEqual(booked.payment.map((e) => e.id));
    expect(after.back.map((e) => e.id)).toEqual(booked.back.map((e) => e.id));
    expect(await raised('2026-12')).toBe(before);
    expect(await receiptsFor(email, renewal.invoiceId)).toHaveLength(1);

    const closed = app.stripe.sandbox.state.moneyBack.closeDispute(dispute.id, 'won');
    await deliver(app, closed.events);
    expect((await entriesOfInvoice(renewal.invoiceId)).back.map((e) => [e.kind, e.amount])).toEqual([
      ['dispute', -700],
      ['dispute_won', 700],
    ]);
    expect(await raised('2026-12')).toBe(before + 700);
  });

  it('when the refunded payment is of a subscription this service did not create (a shop sharing the account, or metadata copying ours), then the event is acknowledged and ignored and nothing is booked', async () => {
    app.clock.set('2026-11-16T10:00:00Z');
    const ours = await becomeSupporter(app, { amount: 500 });
    const ourCheckout = await app.db.selectFrom('checkout_sessions').selectAll().where('record_id', '=', ours.supporterId).executeTakeFirstOrThrow();
    const shop = { order: '42' };
    const forged = { purpose: 'supporter', record_id: ours.supporterId, checkout_id: ourCheckout.id };
    for (const metadata of [shop, forged]) {
      const session = await app.deps.stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ quantity: 1, price_data: { currency: 'gbp', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Not ours' } } }],
        customer_email: 'shop-customer@example.org',
        metadata,
        subscription_data: { metadata },
        success_url: 'https://shop.example.org/ok',
      });
      const { subscriptionId } = payWithoutDelivery(app, session.id);
      const invoiceId = billing().getSubscription(subscriptionId).latest_invoice!;
      const chargeId = billing().chargeOfInvoice(invoiceId);
      const ledgerBefore = await app.db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const { events } = app.stripe.sandbox.state.moneyBack.createRefund({ charge: chargeId });
      await deliver(app, events);

      expect((await eventResult(app, events[0]!.id))?.outcome, JSON.stringify(metadata)).toBe('ignored');
      const ledgerAfter = await app.db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      expect(ledgerAfter.n).toBe(ledgerBefore.n);
      expect(await app.db.selectFrom('checkout_payments').selectAll().where('invoice_id', '=', invoiceId).executeTakeFirst()).toBeUndefined();
      if (metadata === shop) {
        // A shop's charge costs the look-ups that tell it is not ours, never a listing of its refunds.
        expect(app.stripe.requestsTo('/v1/refunds', 'GET').filter((r) => r.params.charge === chargeId)).toHaveLength(0);
      }
    }
    expect((await supporterRow(app, ours.supporterId)).stripe_subscription_id).toBe(ours.subscriptionId);
  });
});

describe('when supporter payments do not count toward the fund', () => {
  it('then a refund before its invoice.paid records the payment and sends its receipt, books nothing, and the late invoice.paid books nothing either', async () => {
    const other = await startTestApp({ env: { SUPPORTER_PAYMENTS_COUNT_TOWARD_FUND: 'false' } });
    try {
      const { subscriptionId, email } = await becomeSupporter(other, { amount: 500 });
      const { events: renewed } = other.stripe.sandbox.state.billing.renew(subscriptionId);
      const invoiceId = other.stripe.sandbox.state.billing.getSubscription(subscriptionId).latest_invoice!;
      const { events } = other.stripe.sandbox.state.moneyBack.createRefund({ charge: other.stripe.sandbox.state.billing.chargeOfInvoice(invoiceId) });
      await deliver(other, events);
      expect((await eventResult(other, events[0]!.id))?.outcome).toBe('applied');
      expect(await other.db.selectFrom('checkout_payments').select('invoice_id').where('invoice_id', '=', invoiceId).execute()).toHaveLength(1);
      await deliver(other, [...renewed, ...renewed]);
      expect(await other.db.selectFrom('ledger_entries').selectAll().execute()).toEqual([]);
      const receipts = (await emailsTo(other, email)).filter((e) => e.template === 'supporters/receipt' && e.text.includes(invoiceId));
      expect(receipts).toHaveLength(1);
    } finally {
      await other.close();
    }
  });
});
