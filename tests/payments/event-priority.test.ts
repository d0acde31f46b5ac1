/**
 * Money first: when jobs pile up (a burst of webhooks, or every instance down for a
 * while), graphile-worker takes the jobs applying Stripe events before the emails
 * and housekeeping waiting beside them, so the fund shows the money as soon as it can.
 */
import { EventEmitter } from 'node:events';
import type { WorkerEvents } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobWorker } from '../../src/lib/job-worker.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { ledgerTotal, startDonation, uniqueEmail } from './payment-helpers.js';

describe('the order of waiting jobs', () => {
  let app: TestApp;
  let worker: JobWorker | undefined;
  beforeAll(async () => {
    app = await startTestApp({ worker: 'none' });
  });
  afterAll(async () => {
    await worker?.stop();
    await app.close();
  });

  it('when sign-in emails were waiting before a payment event arrived, then the event is applied before any of them is sent', async () => {
    for (let i = 0; i < 3; i++) {
      const asked = await app.request('POST', '/api/auth/login', { json: { email: uniqueEmail('reader') } });
      expect(asked.status, asked.text).toBe(202);
    }
    const d = await startDonation(app, { amount: 1200 });
    const [completed] = app.stripe.sandbox.state.pay(d.sessionId, 'card').events;
    const delivered = await app.postWebhook(completed!);
    expect(delivered.body).toMatchObject({ outcome: 'recorded' });
    expect(await ledgerTotal(app, d.donationId)).toBe(0);

    // One job at a time, so the order it takes them in is the order they run.
    const events: WorkerEvents = new EventEmitter();
    const started: string[] = [];
    events.on('job:start', ({ job }) => started.push(job.task_identifier));
    worker = await app.instance.startWorker({ pool: app.database.pool, concurrency: 1, pollInterval: 100, events });
    await app.drainStripeEvents();
    await expect.poll(() => started.filter((t) => t === 'send-email').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);

    expect(started[0]).toBe('apply-stripe-events');
    expect(await ledgerTotal(app, d.donationId)).toBe(1200);
  });
});
