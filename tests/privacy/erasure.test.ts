/** POST /api/me/erasure erases: what it says is gone is gone from every table, the public pages included. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDonation } from '../payments/payment-helpers.js';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.org`;

describe('erasure', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T12:00:00Z' });
  });
  afterAll(() => app.close());

  it('when a donor thanked by name asks for erasure, then the acknowledgements and the home page no longer name them, and the fund keeps the amount', async () => {
    const email = unique('thanked');
    const name = `Thea Thanked ${randomUUID().slice(0, 6)}`;
    const d = await startDonation(app, { amount: 2500, email, name, town: 'Whitby', acknowledge: true });
    await app.stripe.pay(d.sessionId);
    const named = await app.request('GET', '/api/fighting-fund/acknowledgements');
    expect(named.body).toContainEqual(expect.objectContaining({ name, town: 'Whitby', amount: 2500 }));
    const raisedBefore = (await app.request('GET', '/api/fighting-fund')).body.raised;

    const { headers } = await signInAs(app, { email });
    expect((await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers })).status).toBe(200);

    const after = await app.request('GET', '/api/fighting-fund/acknowledgements');
    expect(JSON.stringify(after.body)).not.toContain(name);
    expect((await app.request('GET', '/')).text).not.toContain(name);
    expect((await app.request('GET', '/api/fighting-fund')).body.raised).toBe(raisedBefore);
    const entries = await app.db.selectFrom('ledger_entries').selectAll().where('donation_id', '=', d.donationId).execute();
    expect(entries.map((e) => [e.amount, e.acknowledged])).toEqual([[2500, true]]);
  });

  it('when a reader opens the donate form, then it says the amount is shown with the name of a donor thanked by name', async () => {
    const page = await app.request('GET', '/donate');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/show the amount you give beside them/);
  });
});
