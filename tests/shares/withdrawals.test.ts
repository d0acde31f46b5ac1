import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { NOW, buyShares, memberByEmail, personApplication, transactionsOf, uniqueEmail } from './shares-helpers.js';

describe('withdrawing shares', () => {
  let app: TestApp;
  const boardEmail = uniqueEmail('board');
  beforeAll(async () => {
    app = await startTestApp({ now: NOW, env: { MIN_SHARES: '10', WITHDRAWAL_NOTICE_DAYS: '90' } });
  });
  afterAll(() => app.close());

  async function member(shares: number) {
    const email = uniqueEmail('withdrawer');
    await buyShares(app, personApplication(shares, { email }));
    const { headers, personId } = await signInAs(app, { email });
    return { email, headers, personId };
  }
  const ask = (headers: Record<string, string>, shares: unknown) => app.request('POST', '/api/me/share-withdrawals', { json: { shares }, headers });
  // A session minted at the clock's current time (tests move the clock months ahead).
  const board = async () => (await signInAs(app, { email: boardEmail, roles: ['treasurer'] })).headers;
  const decide = async (id: string, action: string, note?: string, headers?: Record<string, string>) =>
    app.request('POST', `/api/admin/share-withdrawals/${id}/${action}`, { json: note ? { note } : {}, headers: headers ?? (await board()) });

  it('takes a request (202) naming the notice period, but not more than held nor leaving less than the minimum', async () => {
    const m = await member(100);
    expect((await ask(m.headers, 150)).body.error).toMatchObject({ code: 'withdrawal_exceeds_holding' });
    const tooFew = await ask(m.headers, 95);
    expect(tooFew.status).toBe(422);
    expect(tooFew.body.error).toMatchObject({ code: 'below_minimum_holding', details: { remaining: 5, minHolding: 10 } });
    expect((await ask(m.headers, 0)).status).toBe(400);
    expect((await ask(m.headers, 2.5)).status).toBe(400);

    const first = await ask(m.headers, 40);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ shares: 40, status: 'requested', noticeDays: 90, noticeEndsOn: '2027-02-23' });
    expect(first.body.message).toContain("90 days' notice");
    expect(first.body.message).toContain('23 February 2027');

    // What is already asked for counts: 60 more empties the holding, 1 more is too many.
    expect((await ask(m.headers, 1)).status).toBe(202);
    expect((await ask(m.headers, 59)).status).toBe(202);
    const over = await ask(m.headers, 1);
    expect(over.status).toBe(422);
    expect(over.body.error).toMatchObject({ code: 'withdrawal_exceeds_holding', details: { available: 0, pending: 100 } });
  });

  it('goes through every state: deferred, approved, paid; rejected; and refuses what a state does not allow', async () => {
    const m = await member(100);
    const w1 = (await ask(m.headers, 40)).body.id as string;
    const w2 = (await ask(m.headers, 20)).body.id as string;

    const list = await app.request('GET', '/api/admin/share-withdrawals?status=requested', { headers: await board() });
    expect(list.body.withdrawals.map((w: any) => w.id)).toEqual(expect.arrayContaining([w1, w2]));

    expect((await decide(w1, 'paid')).status).toBe(409);
    expect((await decide(w1, 'defer', 'Board meeting 3 Dec: liquidity')).body).toMatchObject({ status: 'deferred', note: 'Board meeting 3 Dec: liquidity' });
    expect((await decide(w1, 'defer')).body.error.code).toBe('invalid_transition');
    expect((await decide(w1, 'approve')).body).toMatchObject({ status: 'approved' });
    expect((await decide(w1, 'approve')).status).toBe(409);

    app.clock.set('2027-03-01T10:00:00Z');
    const paid = await decide(w1, 'paid', 'BACS ref 7781');
    app.clock.set(NOW);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: 'paid', amount: 4_000, note: 'BACS ref 7781', paidAt: '2027-03-01T10:00:00.000Z' });
    expect((await decide(w1, 'reject')).status).toBe(409);

    expect((await decide(w2, 'reject', 'Not now')).body).toMatchObject({ status: 'rejected' });
    expect((await decide(w2, 'approve')).status).toBe(409);

    const after = (await memberByEmail(app, m.email))!;
    expect(after).toMatchObject({ shares_held: 60, amount_paid: 6_000, ceased_on: null });
    const withdrawal = (await transactionsOf(app, after.id)).find((t) => t.kind === 'withdrawal');
    expect(withdrawal).toMatchObject({ shares: -40, amount: -4_000, effective_on: '2027-03-01', withdrawal_id: w1 });

    const actions = await app.db.selectFrom('audit_log').select(['action', 'subject_id']).where('subject_type', '=', 'share_withdrawal').where('subject_id', 'in', [w1, w2]).orderBy('id').execute();
    expect(actions.map((a) => a.action)).toEqual([
      'share_withdrawal.requested',
      'share_withdrawal.requested',
      'share_withdrawal.deferred',
      'share_withdrawal.approved',
      'share_withdrawal.paid',
      'share_withdrawal.rejected',
    ]);

    const me = await app.request('GET', '/api/me', { headers: m.headers });
    expect(me.body.shares.withdrawals.map((w: any) => [w.shares, w.status])).toEqual(expect.arrayContaining([[40, 'paid'], [20, 'rejected']]));
    expect(me.body.shares.transactions.map((t: any) => t.kind)).toEqual(['allotment', 'withdrawal']);
  });

  it('when everything is withdrawn and paid, then the member ceases on that day and holds no certificate', async () => {
    const m = await member(30);
    const id = (await ask(m.headers, 30)).body.id as string;
    await decide(id, 'approve');
    app.clock.set('2027-02-25T23:30:00Z');
    expect((await decide(id, 'paid')).status).toBe(200);
    app.clock.set(NOW);
    expect(await memberByEmail(app, m.email)).toMatchObject({ shares_held: 0, amount_paid: 0, ceased_on: '2027-02-25' });
    expect((await app.request('GET', '/api/me/certificate.pdf', { headers: m.headers })).status).toBe(404);
    expect((await ask(m.headers, 1)).body.error.code).toBe('not_a_member');
    const audit = await app.db.selectFrom('audit_log').selectAll().where('action', '=', 'member.ceased').execute();
    expect(audit.length).toBeGreaterThanOrEqual(1);
  });

  it('when the holding no longer covers an approved request (a refund came), then paying it is refused with 409', async () => {
    const email = uniqueEmail('shrunk');
    const bought = await buyShares(app, personApplication(20, { email }));
    await buyShares(app, personApplication(20, { email }));
    const { headers } = await signInAs(app, { email });
    const id = (await ask(headers, 30)).body.id as string;
    await decide(id, 'approve');
    await app.stripe.refund(bought.sessionId);
    const res = await decide(id, 'paid');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'insufficient_holding', details: { sharesHeld: 20 } });
  });

  it('is for members and the board only', async () => {
    expect((await app.request('POST', '/api/me/share-withdrawals', { json: { shares: 1 } })).status).toBe(401);
    const m = await member(10);
    const id = (await ask(m.headers, 10)).body.id as string;
    expect((await decide(id, 'approve', undefined, m.headers)).status).toBe(403);
    expect((await app.request('GET', '/api/admin/share-withdrawals', { headers: m.headers })).status).toBe(403);
    expect((await decide('00000000-0000-4000-8000-000000000000', 'approve')).status).toBe(404);
    expect((await decide('not-a-uuid', 'approve')).status).toBe(400);
    // Each decision is its own route (SPEC 3); anything else is no route at all.
    expect((await decide(id, 'forfeit')).status).toBe(404);
  });

  it('the account page offers the withdrawal form and its answer states the notice period', async () => {
    const m = await member(50);
    const page = await app.request('GET', '/account', { headers: m.headers });
    expect(page.text).toContain('action="/account/share-withdrawals"');
    const res = await app.request('POST', '/account/share-withdrawals', { form: { shares: '20' }, headers: m.headers });
    expect(res.status).toBe(202);
    expect(res.text).toContain("90 days&#39; notice");
    const refused = await app.request('POST', '/account/share-withdrawals', { form: { shares: '25' }, headers: m.headers });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('a member holds at least 10');
  });
});
