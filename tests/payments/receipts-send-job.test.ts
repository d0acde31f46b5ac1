/**
 * A burst of payments books many gifts in one application of events; their receipts
 * are sent by one graphile-worker job between them (a batch job), not one job each:
 * adding a job costs the database more than storing the email.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyStripeEvents } from '../../src/payments/apply-stripe-events.js';
import type { JobWorker } from '../../src/lib/job-worker.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { ledgerTotal, startDonation } from './payment-helpers.js';

describe('the receipts of one application of events', () => {
  let app: TestApp;
  let worker: JobWorker | undefined;
  beforeAll(async () => {
    app = await startTestApp({ worker: 'none' });
  });
  afterAll(async () => {
    await worker?.stop();
    await app.close();
  });

  it('when three gifts are booked by one application of their events, then one send job names their three receipts, and each receipt is sent once', async () => {
    const donations = [await startDonation(app, { amount: 500 }), await startDonation(app, { amount: 700 }), await startDonation(app, { amount: 900 })];
    const eventIds: string[] = [];
    for (const d of donations) {
      const [completed] = app.stripe.sandbox.state.pay(d.sessionId, 'card').events;
      const delivered = await app.postWebhook(completed!);
      expect(delivered.body).toMatchObject({ outcome: 'recorded' });
      eventIds.push(completed!.id);
    }

    // As the job applying them would, all three in one transaction.
    const results = await applyStripeEvents(app.deps, app.instance.registries, eventIds);
    expect([...results.values()].map((r) => (r instanceof Error ? r.message : r.outcome))).toEqual(['applied', 'applied', 'applied']);

    const receipts = await app.db
      .selectFrom('emails')
      .innerJoin('donations', (join) => join.onRef('donations.email', '=', 'emails.to_address'))
      .select(['emails.id', 'emails.sent_at'])
      .where('emails.template', '=', 'donation-receipt')
      .where('donations.id', 'in', donations.map((d) => d.donationId))
      .execute();
    expect(receipts).toHaveLength(3);
    // graphile-worker's public jobs view leaves the payload out.
    const { rows: sendJobs } = await sql<{ payload: unknown }>`
      select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
       where t.identifier = 'send-email'`.execute(app.db);
    const naming = sendJobs.filter((j) => Array.isArray(j.payload) && receipts.some((r) => (j.payload as string[]).includes(r.id)));
    expect(naming).toHaveLength(1);
    expect([...(naming[0]!.payload as string[])].sort()).toEqual(receipts.map((r) => r.id).sort());
    expect(sendJobs.filter((j) => !Array.isArray(j.payload))).toEqual([]);

    worker = await app.instance.startWorker({ pool: app.database.pool, concurrency: 2, pollInterval: 100 });
    await expect
      .poll(async () => (await app.db.selectFrom('emails').select('sent_at').where('id', 'in', receipts.map((r) => r.id)).execute()).filter((e) => e.sent_at).length, { timeout: 10_000 })
      .toBe(3);
    for (const d of donations) expect(await ledgerTotal(app, d.donationId)).toBe(d.amount);
  });
});
