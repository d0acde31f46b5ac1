import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { becomeSupporter, startSupporter, uniqueEmail } from './supporter-helpers.js';
import { supporterTotals } from '../../src/supporters/supporters-admin.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

describe('the admin supporters API', () => {
  it('lists supporters by status with counts, pages, and the monthly recurring total (yearly amounts / 12); the CSV streams them all and is audited', async () => {
    const { headers } = await signInAs(app, { email: uniqueEmail('treasurer'), roles: ['treasurer'] });
    await becomeSupporter(app, { amount: 500, interval: 'month' });
    await becomeSupporter(app, { amount: 1000, interval: 'month' });
    await becomeSupporter(app, { amount: 6000, interval: 'year' });
    const ended = await becomeSupporter(app, { amount: 700, interval: 'month' });
    await app.stripe.sandbox.cancelSubscription(ended.subscriptionId);
    await startSupporter(app, { amount: 900 }); // checkout never completed: not a subscription yet

    const all = await app.request('GET', '/api/admin/supporters', { headers });
    expect(all.status, all.text).toBe(200);
    expect(all.body.counts).toEqual({ active: 3, canceled: 1 });
    expect(all.body.total).toBe(4);
    expect(all.body.monthlyRecurringTotal).toBe(500 + 1000 + 500);
    expect(all.body.currency).toBe('GBP');
    expect((await supporterTotals(app.deps)).monthlyTotal).toBe(2000);

    const active = await app.request('GET', '/api/admin/supporters?status=active&limit=2&page=2', { headers });
    expect(active.body.supporters).toHaveLength(1);
    expect(active.body.total).toBe(3);
    const yearly = (await app.request('GET', '/api/admin/supporters?status=active', { headers })).body.supporters.find((s: { interval: string }) => s.interval === 'year');
    expect(yearly.monthlyAmount).toBe(500);

    expect((await app.request('GET', '/api/admin/supporters?status=nonsense', { headers })).status).toBe(400);

    const csv = await app.request('GET', '/api/admin/supporters.csv', { headers });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toContain('monthly_pence');
    expect(lines).toHaveLength(5);
    const audit = await app.db.selectFrom('audit_log').selectAll().where('action', '=', 'supporters.exported').execute();
    expect(audit).toHaveLength(1);
  });

  it('refuses readers without a role (403) and strangers (401)', async () => {
    const { headers } = await signInAs(app, { email: uniqueEmail('reader') });
    expect((await app.request('GET', '/api/admin/supporters', { headers })).status).toBe(403);
    expect((await app.request('GET', '/api/admin/supporters.csv')).status).toBe(401);
  });
});
