/**
 * No oracle, no lock-out (SPEC 1 "Shares", "Privacy"): an anonymous application is
 * answered the same whatever the address holds or how it joined; it holds no room
 * under the cap, so it never stops the member's own; the holding is checked when
 * the payment arrives, under the lock, and an over-cap payment is refunded in full.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp, type TestResponse } from '../support/test-app.js';
import {
  NOW,
  apply,
  applicationRow,
  applyOk,
  buyShares,
  emailsTo,
  eventually,
  memberByEmail,
  organisationApplication,
  personApplication,
  uniqueEmail,
} from '../shares/shares-helpers.js';

/** What a caller can see of an answer: status, code, message, details (never an id). */
const visible = (res: TestResponse) => ({ status: res.status, error: res.body.error ?? null });

describe('share applications by someone not signed in as the address', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('when a stranger probes a member\'s address with any number of shares, then every answer is the one a fresh address gets', async () => {
    const member = uniqueEmail('holder');
    await buyShares(app, personApplication(37_251, { email: member }));
    for (const shares of [1, 62_749, 62_750, 99_999, 100_000, 100_001, 150_000]) {
      const probe = await apply(app, personApplication(shares, { email: member }));
      const fresh = await apply(app, personApplication(shares, { email: uniqueEmail('fresh') }));
      expect(visible(probe), `${shares} shares`).toEqual(visible(fresh));
      expect(probe.status).toBe(shares <= 100_000 ? 201 : 422);
    }
  });

  it('when a stranger applies as an organisation with a person member\'s address, then the answer does not say it belongs to a member', async () => {
    const member = uniqueEmail('person');
    await buyShares(app, personApplication(10, { email: member }));
    const probe = await apply(app, organisationApplication(10, { email: member }));
    const fresh = await apply(app, organisationApplication(10, { email: uniqueEmail('org') }));
    expect(visible(probe)).toEqual(visible(fresh));
    expect(probe.status).toBe(201);
  });

  it('when a stranger\'s unpaid application asks for the whole cap in a member\'s address, then the member signed in can still apply and be allotted', async () => {
    const member = uniqueEmail('blocked');
    await buyShares(app, personApplication(10, { email: member }));
    await applyOk(app, personApplication(100_000, { email: member }));
    await applyOk(app, personApplication(100_000, { email: member }));

    const { headers } = await signInAs(app, { email: member });
    const own = await applyOk(app, personApplication(500, { email: member }), headers);
    await app.stripe.pay(own.sessionId);
    expect(await applicationRow(app, own.id)).toMatchObject({ status: 'allotted' });
    expect((await memberByEmail(app, member))!.shares_held).toBe(510);
  });

  it('when a payment would take the holding over the cap, then it is refunded in full and the address is told why', async () => {
    const member = uniqueEmail('over');
    await buyShares(app, personApplication(99_900, { email: member }));
    const over = await applyOk(app, personApplication(200, { email: member }));
    await app.stripe.pay(over.sessionId);
    const refused = await applicationRow(app, over.id);
    expect(refused).toMatchObject({ status: 'refused', refusal_reason: 'holding_cap_exceeded' });
    expect((await memberByEmail(app, member))!.shares_held).toBe(99_900);

    await app.startWorker();
    const call = await eventually(() => {
      const found = app.stripe.requestsTo('/v1/refunds', 'POST').find((r) => r.params.payment_intent === refused.payment_intent_id);
      expect(found).toBeDefined();
      return Promise.resolve(found!);
    });
    // No amount: Stripe refunds the whole payment.
    expect(call.params.amount).toBeUndefined();
    const told = await eventually(async () => {
      const mail = (await emailsTo(app, member)).find((e) => e.template === 'shares/refused');
      expect(mail).toBeDefined();
      return mail!;
    });
    expect(told.text).toContain('£200');
    expect(told.text).toContain('the most anyone may hold');
    expect(told.text).toContain('refunded your payment in full');
    expect(told.text).not.toContain('99,900');
  });
});

describe('payments racing for the last room under the cap', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('when two anonymous applications of more than half the cap each are paid at once, then exactly one is allotted and the other refused', async () => {
    const email = uniqueEmail('race');
    const a = await applyOk(app, personApplication(60_000, { email }));
    const b = await applyOk(app, personApplication(60_000, { email }));
    await Promise.all([app.stripe.pay(a.sessionId), app.stripe.pay(b.sessionId)]);
    await app.drainStripeEvents();

    const statuses = [(await applicationRow(app, a.id)).status, (await applicationRow(app, b.id)).status].sort();
    expect(statuses).toEqual(['allotted', 'refused']);
    expect((await memberByEmail(app, email))!).toMatchObject({ shares_held: 60_000, amount_paid: 6_000_000 });
  });
});

describe('a share payment of the wrong amount', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('when Stripe reports a different amount than the application, then the event is recorded as refused, not as paid', async () => {
    const applied = await applyOk(app, personApplication(25));
    const id = randomBytes(6).toString('hex');
    const event = {
      id: `evt_wrong_${id}`,
      object: 'event',
      created: Math.floor(app.clock.now().getTime() / 1000),
      livemode: false,
      type: 'checkout.session.completed',
      data: {
        object: {
          id: applied.sessionId,
          object: 'checkout.session',
          status: 'complete',
          payment_status: 'paid',
          amount_total: 2400,
          currency: 'gbp',
          payment_intent: `pi_wrong_${id}`,
          client_reference_id: applied.id,
          metadata: {},
          customer: null,
          subscription: null,
        },
      },
    };
    expect((await app.deliverWebhook(event)).status).toBe(200);
    expect(await applicationRow(app, applied.id)).toMatchObject({ status: 'refused', refusal_reason: 'amount_mismatch' });
    const result = await app.db.selectFrom('stripe_event_results').selectAll().where('event_id', '=', event.id).executeTakeFirstOrThrow();
    expect(result.note).toMatch(/refused \(amount_mismatch\): refund queued/);
    expect(result.note).not.toMatch(/ paid$/);
  });
});
