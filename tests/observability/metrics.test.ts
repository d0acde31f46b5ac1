import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startDonation, uniqueEmail } from '../payments/payment-helpers.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const TOKEN = 'metrics-token-0123456789abcdef';

/** The value of one sample line `name{labels} value` (labels given in the order prom-client writes them), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (wanted.every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  let smtp: TestSmtp;
  let app: TestApp;
  beforeAll(async () => {
    smtp = await startTestSmtp();
    app = await startTestApp({ worker: true, now: '2026-11-20T12:00:00Z', env: { METRICS_TOKEN: TOKEN, SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
  });

  const scrape = async () => {
    const res = await app.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };
  /** Scrapes until `ready` holds (a worker's job ends a moment after its effect is visible), at most ~10 s. */
  const scrapeUntil = async (ready: (text: string) => boolean) => {
    let text = await scrape();
    for (let i = 0; i < 200 && !ready(text); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = await scrape();
    }
    return text;
  };

  it('when no token is sent, then 401 unauthenticated in the contract error body; a wrong token gets 403 forbidden', async () => {
    const none = await app.request('GET', '/metrics');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    const basic = await app.request('GET', '/metrics', { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
    const wrong = await app.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
    expect(wrong.text).not.toContain('reader_coop_');
  });

  it('when a gift is paid and Stripe delivers its event twice, then requests by route and status, deliveries and events by type and outcome, the email sent and the open campaign total are served', async () => {
    const before = await scrape();
    const raisedBefore = sample(before, 'reader_coop_fund_raised_pence', { campaign: '2026-11' }) ?? 0;
    const email = uniqueEmail('metrics');
    const d = await startDonation(app, { amount: 1234, email });
    const { events } = await app.stripe.pay(d.sessionId);
    const completed = events.find((e) => e.type === 'checkout.session.completed')!;
    expect((await app.deliverWebhook(completed)).body.outcome).toBe('duplicate');
    await smtp.waitForMail((m) => m.to === email);
    expect((await app.request('GET', '/api/fighting-fund/no-such-campaign')).status).toBe(404);

    const sent = { template: 'donation-receipt', outcome: 'sent' };
    const text = await scrapeUntil((t) => (sample(t, 'reader_coop_emails_total', sent) ?? 0) >= 1);
    const created = { method: 'POST', route: '/api/donations', status: '201' };
    expect(sample(text, 'reader_coop_http_requests_total', created)).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'reader_coop_http_request_duration_seconds_count', created)).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'reader_coop_http_request_duration_seconds_bucket', { ...created, le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'reader_coop_http_requests_total', { method: 'GET', route: '/api/fighting-fund/:slug', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'reader_coop_stripe_webhook_deliveries_total', { type: 'checkout.session.completed', outcome: 'recorded' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'reader_coop_stripe_webhook_deliveries_total', { type: 'checkout.session.completed', outcome: 'duplicate' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'reader_coop_stripe_events_processed_total', { type: 'checkout.session.completed', outcome: 'applied' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'reader_coop_emails_total', { template: 'donation-receipt', outcome: 'sent' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'reader_coop_fund_raised_pence', { campaign: '2026-11' })).toBe(raisedBefore + 1234);
    expect(sample(text, 'reader_coop_fund_target_pence', { campaign: '2026-11' })).toBe(app.config.fund.monthlyTarget);
    expect(text).toContain('# TYPE reader_coop_job_queue_depth gauge');
    expect(text).toContain('# TYPE reader_coop_job_failures_total counter');
  });

  it('when an unsigned delivery is refused, then it is counted as rejected', async () => {
    const before = sample(await scrape(), 'reader_coop_stripe_webhook_deliveries_total', { type: 'unknown', outcome: 'rejected' }) ?? 0;
    expect((await app.request('POST', '/webhooks/stripe', { body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect(sample(await scrape(), 'reader_coop_stripe_webhook_deliveries_total', { type: 'unknown', outcome: 'rejected' })).toBe(before + 1);
  });

  it('when the SMTP server refuses mail, then the failed sends, the failed job attempts and the retrying job are counted', async () => {
    await smtp.stop();
    try {
      const email = uniqueEmail('refused');
      const d = await startDonation(app, { amount: 500, email });
      await app.stripe.pay(d.sessionId);
      const text = await scrapeUntil((t) => (sample(t, 'reader_coop_jobs_retrying', { task: 'send-email' }) ?? 0) >= 1);
      expect(sample(text, 'reader_coop_emails_total', { template: 'donation-receipt', outcome: 'failed' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'reader_coop_job_failures_total', { task: 'send-email', final: 'false' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'reader_coop_jobs_retrying', { task: 'send-email' })).toBeGreaterThanOrEqual(1);
    } finally {
      await smtp.start();
    }
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('when METRICS_TOKEN is unset, then /metrics answers 404 whatever is sent', async () => {
    for (const headers of [{}, { authorization: 'Bearer anything-at-all-long-enough' }] as Record<string, string>[]) {
      const res = await app.request('GET', '/metrics', { headers });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    }
  });

  it('when METRICS_TOKEN is too short, then the configuration is refused naming it', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
  });
});
