/**
 * The whole sandbox flow through the real service start-up (src/service.ts): no
 * Stripe keys, so the built-in sandbox serves Checkout under /sandbox and
 * delivers signed events to the service's own webhook route.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestDatabase } from '../support/test-app.js';
import { freePort } from '../../src/lib/net.js';
import { uniqueEmail } from './payment-helpers.js';

describe('sandbox payments (no Stripe keys)', () => {
  let service: RunningService;
  let base: string;
  let dropDatabase: () => Promise<void>;
  let dataDir: string;

  beforeAll(async () => {
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-sandbox-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: String(port),
      PUBLIC_URL: base,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      AUTH_SECRET: 'test-secret-test-secret-test-secret-0123456789',
      LOG_LEVEL: 'silent',
    });
    expect(config.stripe.sandbox).toBe(true);
    service = await startService(config, createLogger('silent'));
  });
  afterAll(async () => {
    await service?.stop();
    await dropDatabase?.();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const get = (url: string) => fetch(url, { redirect: 'manual' });
  const postForm = (url: string, form: Record<string, string>) =>
    fetch(url, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
  const raised = async () => ((await (await get(`${base}/api/fighting-fund`)).json()) as { raised: number }).raised;

  it('when a reader donates and pays on the sandbox page, then the fund total moves by the gift', async () => {
    const before = await raised();
    const res = await fetch(`${base}/api/donations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 1250, email: uniqueEmail() }),
    });
    expect(res.status).toBe(201);
    const { checkoutUrl } = (await res.json()) as { checkoutUrl: string };
    expect(checkoutUrl).toMatch(new RegExp(`^${base}/sandbox/checkout/cs_test_\\w+$`));

    const page = await get(checkoutUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('SANDBOX');
    expect(html).toContain('£12.50');
    expect(html).toContain('Pay by card');

    const paid = await postForm(`${checkoutUrl}/pay`, { method: 'card' });
    expect(paid.status).toBe(303);
    const sessionId = checkoutUrl.split('/').pop()!;
    expect(paid.headers.get('location')).toBe(`${base}/checkout/success?session_id=${sessionId}`);

    expect(await raised()).toBe(before + 1250);
    const success = await (await get(paid.headers.get('location')!)).text();
    expect(success).toMatch(/your £[\d.,]+ gift is in the fighting fund/);
    expect(success).toContain('SANDBOX');

    // The dashboard's partial refund reaches the fund too (charge.refunded through the sandbox API).
    const refunded = await postForm(`${base}/sandbox/sessions/${sessionId}/refund`, { amount: '2.50' });
    expect(refunded.status).toBe(303);
    expect(await raised()).toBe(before + 1000);
    const dashboard = await (await get(`${base}/sandbox`)).text();
    expect(dashboard).toContain('refunded £2.50');
  });

  it('when a reader uses the /donate form, then they are sent to the sandbox checkout page', async () => {
    const res = await postForm(`${base}/donate`, { amount: '7.5', email: uniqueEmail() });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${base}/sandbox/checkout/cs_test_`));
  });

  it('when the payer cancels, then they go back to the cancel page and nothing is booked', async () => {
    const before = await raised();
    const res = await fetch(`${base}/api/donations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 400, email: uniqueEmail() }),
    });
    const { checkoutUrl } = (await res.json()) as { checkoutUrl: string };
    const cancelled = await postForm(`${checkoutUrl}/cancel`, {});
    expect(cancelled.status).toBe(303);
    // Back to the donate form, filled in as the payer left it.
    expect(cancelled.headers.get('location')).toMatch(new RegExp(`^${base}/donate/resume/[0-9a-f-]{36}$`));
    expect(await raised()).toBe(before);
  });
});
