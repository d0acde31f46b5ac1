import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { eventResult, ledgerTotal, startDonation } from './payment-helpers.js';

const eventOf = (apiVersion: string | null, object: Record<string, unknown> = {}) => ({
  id: `evt_edge_${randomUUID().replace(/-/g, '')}`,
  object: 'event',
  type: 'customer.created',
  created: 1795000000,
  livemode: false,
  api_version: apiVersion,
  data: { object: { id: `cus_${randomUUID().slice(0, 8)}`, object: 'customer', ...object } },
});

async function storedEvents(app: TestApp, id: string) {
  return app.db.selectFrom('stripe_events').select(['id', 'payload']).where('id', '=', id).execute();
}

describe('webhook deliveries at the edges', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T12:00:00Z' });
  });
  afterAll(() => app.close());

  it('when the signature is dated an hour ahead, then 400 invalid_signature and nothing is stored; a few seconds of clock skew pass', async () => {
    const ahead = eventOf(Stripe.API_VERSION);
    const res = await app.deliverWebhook(ahead, { timestamp: Math.floor(Date.now() / 1000) + 3600 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_signature');
    expect(await storedEvents(app, ahead.id)).toHaveLength(0);
    const justAhead = await app.deliverWebhook(ahead, { timestamp: Math.floor(Date.now() / 1000) + 10 });
    expect(justAhead.status).toBe(200);
    expect(await storedEvents(app, ahead.id)).toHaveLength(1);
  });

  it('when events come with an API version other than the pinned one, then they are stored, a warning is logged once per version, and /readyz lists them', async () => {
    const warnings = () => app.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('stripe event with an API version other than the pinned one'));
    expect((await app.deliverWebhook(eventOf(Stripe.API_VERSION))).status).toBe(200);
    expect(warnings()).toHaveLength(0);
    for (const version of ['2020-08-27', '2020-08-27', '2019-02-19', '2020-08-27']) {
      const event = eventOf(version);
      expect((await app.deliverWebhook(event)).status).toBe(200);
      expect(await storedEvents(app, event.id)).toHaveLength(1);
    }
    expect(warnings().map((w) => w.apiVersion)).toEqual(['2020-08-27', '2019-02-19']);
    expect(warnings().every((w) => w.level === 40 && w.pinnedApiVersion === Stripe.API_VERSION)).toBe(true);
    const ready = await app.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.details.stripeApiVersion).toEqual({ pinned: Stripe.API_VERSION, otherVersionsSeen: ['2019-02-19', '2020-08-27'] });
  });

  it('when a validly signed event holds a NUL or a lone surrogate, then it is stored with U+FFFD in their place, applied, and a second delivery is a duplicate', async () => {
    for (const odd of ['A\u0000B', 'A\ud800B', '\udc00']) {
      const event = eventOf(Stripe.API_VERSION, { name: odd, metadata: { [`k${odd}`]: odd } });
      const res = await app.deliverWebhook(event);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.outcome).toBe('recorded');
      const [stored] = await storedEvents(app, event.id);
      const payload = stored!.payload as { data: { object: { name: string; metadata: Record<string, string> } } };
      expect(payload.data.object.name).toBe(odd.replace(/\u0000|[\ud800-\udfff]/g, '\ufffd'));
      expect(Object.values(payload.data.object.metadata)).toEqual([payload.data.object.name]);
      expect(await eventResult(app, event.id)).toMatchObject({ outcome: 'ignored' });
      expect((await app.deliverWebhook(event)).body.outcome).toBe('duplicate');
    }
    expect(app.logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('stripe event holds characters the database cannot store'))).toBe(true);

    // A payment whose customer typed a NUL into their name is still booked.
    const d = await startDonation(app, { amount: 700 });
    const { events } = app.stripe.sandbox.state.pay(d.sessionId, 'card');
    const completed = events[0]! as { data: { object: Record<string, unknown> } };
    completed.data.object.customer_details = { ...(completed.data.object.customer_details as object), name: 'Nul\u0000Name' };
    expect((await app.deliverWebhook(completed)).status).toBe(200);
    expect(await ledgerTotal(app, d.donationId)).toBe(700);
  });
});
