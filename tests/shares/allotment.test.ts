import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { insertMember } from '../../src/shares/register.repository.js';
import { expireStaleApplications } from '../../src/shares/applications.service.js';
import { refundSharePayment } from '../../src/shares/share-refusals.js';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import {
  NOW,
  applicationRow,
  apply,
  applyOk,
  buyShares,
  emailsTo,
  eventOfType,
  eventually,
  memberByEmail,
  organisationApplication,
  personApplication,
  transactionsOf,
  uniqueEmail,
} from './shares-helpers.js';

async function jobsFor(app: TestApp, task: string) {
  const { rows } = await sql<{ payload: any; key: string | null }>`
    select j.payload, j.key from graphile_worker._private_jobs j
    join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = ${task}`.execute(app.db);
  return rows;
}

describe('allotting shares on payment', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('when a card payment is confirmed, then the applicant is admitted with a member number, the shares allotted and welcomed with a certificate', async () => {
    const email = uniqueEmail('new');
    const { id } = await buyShares(app, personApplication(250, { email, name: 'Grace Owner' }));

    const application = await applicationRow(app, id);
    expect(application).toMatchObject({ status: 'allotted', payment_intent_id: expect.stringMatching(/^pi_/) });
    const member = (await memberByEmail(app, email))!;
    expect(member).toMatchObject({
      id: application.member_id,
      kind: 'person',
      name: 'Grace Owner',
      address_line1: '1 Print Street',
      postcode: 'LS1 1AA',
      admitted_on: '2026-11-25',
      ceased_on: null,
      shares_held: 250,
      amount_paid: 25_000,
      person_id: application.person_id,
    });
    expect(member.number).toBeGreaterThan(0);
    expect(await transactionsOf(app, member.id)).toEqual([
      expect.objectContaining({
        kind: 'allotment',
        shares: 250,
        amount: 25_000,
        effective_on: '2026-11-25',
        application_id: id,
        stripe_key: `payment:${application.payment_intent_id}`,
      }),
    ]);

    const [welcome, ...others] = await emailsTo(app, email);
    expect(others).toHaveLength(0);
    expect(welcome).toMatchObject({ template: 'shares/welcome', person_id: application.person_id });
    expect(welcome!.subject).toContain(`member ${member.number}`);
    expect(welcome!.text).toContain('Shares allotted:  250');
    // The certificate as at this allotment, described; drawn when the email is sent (certificate-email.test.ts).
    expect(welcome!.attachments).toEqual([
      {
        filename: `share-certificate-${member.number}.pdf`,
        contentType: 'application/pdf',
        draw: 'share-certificate',
        facts: expect.objectContaining({
          member: { name: 'Grace Owner', number: member.number, kind: 'person', admittedOn: '2026-11-25' },
          sharesHeld: 250,
          amountPaid: 25_000,
          issuedOn: '2026-11-25',
        }),
      },
    ]);

    expect(app.logs.some((l) => l.msg === 'shares allotted: new member admitted' && l.memberNumber === member.number)).toBe(true);
    // Share capital is not donation money.
    const ledger = await app.db.selectFrom('ledger_entries').selectAll().where('source_ref', 'like', `%${application.payment_intent_id}%`).execute();
    expect(ledger).toHaveLength(0);
  });

  it('when a member pays for more, then the same member number holds more and is told so', async () => {
    const email = uniqueEmail('more');
    await buyShares(app, personApplication(100, { email }));
    const first = (await memberByEmail(app, email))!;
    await buyShares(app, personApplication(40, { email, name: 'A Different Spelling' }));
    const after = (await memberByEmail(app, email))!;
    expect(after).toMatchObject({ id: first.id, number: first.number, shares_held: 140, amount_paid: 14_000, name: first.name });
    expect((await transactionsOf(app, first.id)).map((t) => [t.kind, t.shares])).toEqual([
      ['allotment', 100],
      ['allotment', 40],
    ]);
    expect((await emailsTo(app, email)).map((e) => e.template)).toEqual(['shares/welcome', 'shares/added']);
  });

  it('GET /api/me and the account page show the member, the holding and every transaction', async () => {
    const email = uniqueEmail('me');
    await buyShares(app, personApplication(30, { email, name: 'Mo Member' }));
    await buyShares(app, personApplication(20, { email }));
    const member = (await memberByEmail(app, email))!;
    const { headers } = await signInAs(app, { email });

    const me = await app.request('GET', '/api/me', { headers });
    expect(me.status).toBe(200);
    expect(me.body.member).toMatchObject({ number: member.number, name: 'Mo Member', admittedAt: '2026-11-25', ceasedAt: null, sharesHeld: 50, amountPaid: 5_000 });
    expect(me.body.shares).toMatchObject({ held: 50, paid: 5_000, currency: 'GBP', withdrawalNoticeDays: 90 });
    expect(me.body.shares.transactions).toEqual([
      expect.objectContaining({ kind: 'allotment', shares: 30, amount: 3_000, effectiveOn: '2026-11-25', memberNumber: member.number }),
      expect.objectContaining({ kind: 'allotment', shares: 20, amount: 2_000 }),
    ]);

    const page = await app.request('GET', '/account', { headers });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Your shares in the society');
    expect(page.text).toContain(`<td>${member.number}</td>`);
    expect(page.text).toContain('25 November 2026');
    expect(page.text).toContain('£50.00');
    expect(page.text).toContain('/api/me/certificate.pdf');
    expect(page.text).toContain('90 days');
  });

  it('when someone who never bought shares asks, then member is null and the holding zero', async () => {
    const { headers } = await signInAs(app, { email: uniqueEmail('nobody') });
    const me = await app.request('GET', '/api/me', { headers });
    expect(me.body.member).toBeNull();
    expect(me.body.shares).toMatchObject({ held: 0, paid: 0, transactions: [] });
  });

  it('when a Bacs Direct Debit is submitted and later succeeds, then the shares are allotted only on success', async () => {
    const email = uniqueEmail('bacs');
    const { id, sessionId } = await applyOk(app, personApplication(75, { email }));
    await app.stripe.pay(sessionId, 'bacs');
    expect((await applicationRow(app, id)).status).toBe('processing');
    expect(await memberByEmail(app, email)).toBeUndefined();

    await app.stripe.settleBacs(sessionId, 'succeeded');
    expect((await applicationRow(app, id)).status).toBe('allotted');
    expect(await memberByEmail(app, email)).toMatchObject({ shares_held: 75 });
  });

  it('when a Bacs Direct Debit fails, then nothing is allotted, the application is failed, and the applicant is emailed a way to try again', async () => {
    const email = uniqueEmail('bacsfail');
    const { id, sessionId } = await applyOk(app, personApplication(75, { email }));
    await app.stripe.pay(sessionId, 'bacs');
    await app.stripe.settleBacs(sessionId, 'failed');
    expect((await applicationRow(app, id)).status).toBe('failed');
    expect(await memberByEmail(app, email)).toBeUndefined();
    const emails = await emailsTo(app, email);
    expect(emails.map((e) => e.template)).toEqual(['payment-failed']);
    expect(emails[0]!.text).toContain(`/shares/resume/${id}`);
    expect(emails[0]!.text).toContain('no shares have been allotted');
  });

  it('when the completion arrives twice (the same event, and a copy with another id), then the shares are allotted once', async () => {
    const email = uniqueEmail('twice');
    const { sessionId } = await applyOk(app, personApplication(60, { email }));
    const { events } = app.stripe.sandbox.state.pay(sessionId, 'card');
    const completed = eventOfType(events, 'checkout.session.completed');
    expect((await app.deliverWebhook(completed)).status).toBe(200);
    expect((await app.deliverWebhook(completed)).status).toBe(200);
    expect((await app.deliverWebhook({ ...completed, id: `${completed.id}_copy` })).status).toBe(200);

    const member = (await memberByEmail(app, email))!;
    expect(member.shares_held).toBe(60);
    expect(await transactionsOf(app, member.id)).toHaveLength(1);
    expect(await emailsTo(app, email)).toHaveLength(1);
  });

  it('when the Direct Debit success arrives before the "submitted" completion, then the shares are allotted once and stay allotted', async () => {
    const email = uniqueEmail('order');
    const { id, sessionId } = await applyOk(app, personApplication(45, { email }));
    const submitted = eventOfType(app.stripe.sandbox.state.pay(sessionId, 'bacs').events, 'checkout.session.completed');
    const succeeded = eventOfType(app.stripe.sandbox.state.settleBacs(sessionId, 'succeeded').events, 'checkout.session.async_payment_succeeded');

    expect((await app.deliverWebhook(succeeded)).status).toBe(200);
    expect((await app.deliverWebhook(submitted)).status).toBe(200);
    expect((await applicationRow(app, id)).status).toBe('allotted');
    const member = (await memberByEmail(app, email))!;
    expect(member.shares_held).toBe(45);
    expect(await transactionsOf(app, member.id)).toHaveLength(1);
  });
});

describe('refunds and disputes of share payments', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('when a share payment is refunded, then the allotment is reversed (nothing deleted) and the member ceases', async () => {
    const email = uniqueEmail('refund');
    const { id, sessionId } = await buyShares(app, personApplication(80, { email }));
    const member = (await memberByEmail(app, email))!;
    app.clock.advance(3 * 24 * 3600 * 1000);
    const { events } = await app.stripe.refund(sessionId);

    const [allotment, reversal, ...rest] = await transactionsOf(app, member.id);
    expect(rest).toHaveLength(0);
    expect(reversal).toMatchObject({ kind: 'reversal', shares: -80, amount: -8_000, reverses_transaction_id: allotment!.id, effective_on: '2026-11-28', application_id: id });
    expect(reversal!.stripe_key).toMatch(/^refund:re_/);
    expect(await memberByEmail(app, email)).toMatchObject({ id: member.id, number: member.number, shares_held: 0, amount_paid: 0, ceased_on: '2026-11-28' });
    expect((await applicationRow(app, id)).status).toBe('reversed');

    // The same refund told again changes nothing.
    expect((await app.deliverWebhook(eventOfType(events, 'charge.refunded'))).status).toBe(200);
    expect(await transactionsOf(app, member.id)).toHaveLength(2);
    // The database refuses to rewrite history.
    await expect(app.db.deleteFrom('share_transactions').where('member_id', '=', member.id).execute()).rejects.toThrow(/append-only/);
    await expect(app.db.deleteFrom('members').where('id', '=', member.id).execute()).rejects.toThrow(/never deleted/);
    app.clock.set(NOW);
  });

  it('when part of a payment is refunded, then only the shares no longer paid for are reversed', async () => {
    const email = uniqueEmail('partial');
    const { sessionId } = await buyShares(app, personApplication(10, { email }));
    await app.stripe.refund(sessionId, 150);
    const member = (await memberByEmail(app, email))!;
    expect(member).toMatchObject({ shares_held: 8, amount_paid: 850, ceased_on: null });
    await app.stripe.refund(sessionId, 850);
    expect(await memberByEmail(app, email)).toMatchObject({ shares_held: 0, amount_paid: 0, ceased_on: '2026-11-25' });
  });

  it('when the refund reaches us before the payment, then nothing is allotted, whatever comes after', async () => {
    const email = uniqueEmail('early');
    const { id, sessionId } = await applyOk(app, personApplication(25, { email }));
    const completed = eventOfType(app.stripe.sandbox.state.pay(sessionId, 'card').events, 'checkout.session.completed');
    const charge = app.stripe.sandbox.state.chargeOf(sessionId);
    const refunded = eventOfType(app.stripe.sandbox.state.moneyBack.createRefund({ charge: charge.id }).events, 'charge.refunded');

    expect((await app.deliverWebhook(refunded)).status).toBe(200);
    expect((await app.deliverWebhook(completed)).status).toBe(200);
    expect(await applicationRow(app, id)).toMatchObject({ status: 'reversed', member_id: null });
    expect(await memberByEmail(app, email)).toBeUndefined();
  });

  it('when a dispute is opened, then the shares stand; when it is lost, the allotment is reversed', async () => {
    const email = uniqueEmail('lost');
    const { id, sessionId } = await buyShares(app, personApplication(50, { email }));
    const { disputeId } = await app.stripe.openDispute(sessionId);
    expect(await memberByEmail(app, email)).toMatchObject({ shares_held: 50, ceased_on: null });
    expect((await applicationRow(app, id)).dispute_status).toBe('open');

    await app.stripe.closeDispute(disputeId, 'lost');
    const member = (await memberByEmail(app, email))!;
    expect(member).toMatchObject({ shares_held: 0, amount_paid: 0, ceased_on: '2026-11-25' });
    const reversal = (await transactionsOf(app, member.id)).find((t) => t.kind === 'reversal');
    expect(reversal).toMatchObject({ shares: -50, amount: -5_000, stripe_key: `dispute:${disputeId}` });
    expect(await applicationRow(app, id)).toMatchObject({ status: 'reversed', dispute_status: 'lost' });
  });

  it('when a dispute is won, then nothing was taken away and nothing needs re-allotting', async () => {
    const email = uniqueEmail('won');
    const { id, sessionId } = await buyShares(app, personApplication(50, { email }));
    const { disputeId } = await app.stripe.openDispute(sessionId);
    await app.stripe.closeDispute(disputeId, 'won');
    const member = (await memberByEmail(app, email))!;
    expect(member).toMatchObject({ shares_held: 50, ceased_on: null });
    expect(await transactionsOf(app, member.id)).toHaveLength(1);
    expect(await applicationRow(app, id)).toMatchObject({ status: 'allotted', dispute_status: 'won' });
  });
});

describe('member numbers', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('are never reused: not after a member ceases, not after an admission that rolled back, and a returning member gets a new one', async () => {
    const leaver = uniqueEmail('leaver');
    const { sessionId } = await buyShares(app, personApplication(10, { email: leaver }));
    const first = (await memberByEmail(app, leaver))!;
    await app.stripe.refund(sessionId);
    expect((await memberByEmail(app, leaver))!.ceased_on).not.toBeNull();

    const second = uniqueEmail('second');
    await buyShares(app, personApplication(10, { email: second }));
    const secondMember = (await memberByEmail(app, second))!;
    expect(secondMember.number).toBeGreaterThan(first.number);

    // An admission whose transaction rolls back still uses up its number.
    const person = await app.db.selectFrom('people').select('id').where('email', '=', second).executeTakeFirstOrThrow();
    let drawn = 0;
    await expect(
      app.db.transaction().execute(async (trx) => {
        await trx.updateTable('members').set({ ceased_on: '2026-11-25' }).where('id', '=', secondMember.id).execute();
        const m = await insertMember(trx, {
          person_id: person.id,
          kind: 'person',
          name: 'Rolled Back',
          address_line1: 'x',
          town: 'x',
          postcode: 'x',
          country: 'x',
          admitted_on: '2026-11-25',
          currency: 'GBP',
        });
        drawn = m.number;
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(drawn).toBeGreaterThan(secondMember.number);
    expect(await app.db.selectFrom('members').selectAll().where('number', '=', drawn).executeTakeFirst()).toBeUndefined();

    const third = uniqueEmail('third');
    await buyShares(app, personApplication(10, { email: third }));
    expect((await memberByEmail(app, third))!.number).toBeGreaterThan(drawn);

    // The leaver comes back: a new membership with a new number; the old entry stays, ceased.
    await buyShares(app, personApplication(10, { email: leaver }));
    const memberships = await app.db.selectFrom('members').selectAll().where('email', '=', leaver).orderBy('number').execute();
    expect(memberships).toHaveLength(2);
    expect(memberships[0]).toMatchObject({ id: first.id, number: first.number, ceased_on: expect.any(String) });
    expect(memberships[1]!.number).toBeGreaterThan(drawn);
    expect(memberships[1]).toMatchObject({ ceased_on: null, shares_held: 10 });
    await expect(app.db.updateTable('members').set({ number: 999_999 }).where('id', '=', first.id).execute()).rejects.toThrow(/never changes/);
  });
});

describe('a payment that can no longer be honoured', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('when the cap was reached meanwhile, then the payment is refunded through Stripe, the applicant told why, and nothing allotted', async () => {
    const email = uniqueEmail('late');
    await buyShares(app, personApplication(99_900, { email }));
    // Signed in as the address: only the owner's applications hold room under the cap until paid.
    const { headers } = await signInAs(app, { email });
    const late = await applyOk(app, personApplication(100, { email }), headers);
    // A day later the unpaid application stops counting, and the room goes to another application.
    app.clock.advance(26 * 3600 * 1000);
    expect(await expireStaleApplications(app.deps)).toBeGreaterThanOrEqual(1);
    expect((await applicationRow(app, late.id)).status).toBe('expired');
    await applyOk(app, personApplication(100, { email }), headers);

    // ...and then the first one is paid after all.
    await app.stripe.pay(late.sessionId);
    const refused = await applicationRow(app, late.id);
    const member = (await memberByEmail(app, email))!;
    // It was for this membership, which stays as it was.
    expect(refused).toMatchObject({ status: 'refused', refusal_reason: 'holding_cap_exceeded', member_id: member.id });
    expect(member.shares_held).toBe(99_900);
    expect(await transactionsOf(app, member.id)).toHaveLength(1);
    expect(await jobsFor(app, 'shares:refund-payment')).toEqual([
      expect.objectContaining({ payload: { applicationId: late.id, paymentIntentId: refused.payment_intent_id } }),
    ]);

    // This test's own worker: stopped at its end, so the next tests see their jobs waiting.
    const worker = await app.startWorker();
    const refundCall = await eventually(() => {
      const call = app.stripe.requestsTo('/v1/refunds', 'POST').find((r) => r.params.payment_intent === refused.payment_intent_id);
      expect(call).toBeDefined();
      return call!;
    });
    expect(refundCall.idempotencyKey).toBe(`share-application-refund:${refused.payment_intent_id}`);
    const done = await eventually(async () => {
      const row = await applicationRow(app, late.id);
      expect(row.refund_id).toMatch(/^re_/);
      return row;
    });
    expect(done.status).toBe('refused');
    const told = await eventually(async () => {
      const mail = (await emailsTo(app, email)).find((e) => e.template === 'shares/refused');
      expect(mail).toBeDefined();
      return mail!;
    });
    expect(told.text).toContain('£100');
    expect(told.text).toContain('the most anyone may hold');

    // The refund's own webhook arrives: recorded, and nothing to reverse.
    await app.stripe.idle();
    await eventually(async () => {
      const returns = await app.db.selectFrom('share_payment_returns').selectAll().where('application_id', '=', late.id).execute();
      expect(returns).toHaveLength(1);
    });
    expect((await memberByEmail(app, email))!.shares_held).toBe(99_900);
    expect(await transactionsOf(app, member.id)).toHaveLength(1);
    expect(app.stripe.requestsTo('/v1/refunds', 'POST').filter((r) => r.params.payment_intent === refused.payment_intent_id)).toHaveLength(1);
    await worker.stop();
  });

  it('when the member the shares were for has ceased meanwhile, then the payment is refused for a refund', async () => {
    const email = uniqueEmail('ceased');
    const bought = await buyShares(app, personApplication(10, { email }));
    const more = await applyOk(app, personApplication(10, { email }), (await signInAs(app, { email })).headers);
    await app.stripe.refund(bought.sessionId);
    expect((await memberByEmail(app, email))!.ceased_on).not.toBeNull();

    await app.stripe.pay(more.sessionId);
    const row = await applicationRow(app, more.id);
    expect(row).toMatchObject({ status: 'refused', refusal_reason: 'applicant_ceased' });
    expect(await jobsFor(app, 'shares:refund-payment')).toEqual(
      expect.arrayContaining([expect.objectContaining({ payload: { applicationId: more.id, paymentIntentId: row.payment_intent_id } })]),
    );
    expect((await memberByEmail(app, email))!.shares_held).toBe(0);
  });

  it('when an organisation email became a person member meanwhile, then the organisation payment is refused', async () => {
    const email = uniqueEmail('switch');
    const org = await applyOk(app, organisationApplication(10, { email }));
    await buyShares(app, personApplication(10, { email }));
    await app.stripe.pay(org.sessionId);
    expect(await applicationRow(app, org.id)).toMatchObject({ status: 'refused', refusal_reason: 'applicant_mismatch' });
    // Only the signed-in owner hears before paying; anyone else's application meets the register at payment.
    expect((await apply(app, organisationApplication(10, { email }), (await signInAs(app, { email })).headers)).status).toBe(422);
    expect((await apply(app, organisationApplication(10, { email }))).status).toBe(201);
  });
});

describe('the refund job, when the money went back another way', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('when the treasurer refunded from the Stripe dashboard first, then the job asks Stripe for nothing and still tells the applicant', async () => {
    const email = uniqueEmail('dashboard');
    const bought = await buyShares(app, personApplication(10, { email }));
    const more = await applyOk(app, personApplication(10, { email }), (await signInAs(app, { email })).headers);
    await app.stripe.refund(bought.sessionId);
    await app.stripe.pay(more.sessionId);
    const refused = await applicationRow(app, more.id);
    expect(refused.status).toBe('refused');
    await app.stripe.refund(more.sessionId);

    await refundSharePayment(app.deps, { applicationId: more.id, paymentIntentId: refused.payment_intent_id! });
    expect(app.stripe.requestsTo('/v1/refunds', 'POST')).toHaveLength(0);
    expect(await applicationRow(app, more.id)).toMatchObject({ status: 'refused', refund_id: 'already-refunded' });
    expect((await emailsTo(app, email)).map((e) => e.template)).toContain('shares/refused');

    // Run again (a retried job): nothing more happens.
    await refundSharePayment(app.deps, { applicationId: more.id, paymentIntentId: refused.payment_intent_id! });
    expect((await emailsTo(app, email)).filter((e) => e.template === 'shares/refused')).toHaveLength(1);
  });
});
