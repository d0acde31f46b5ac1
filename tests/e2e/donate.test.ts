/**
 * A reader donates in a real browser: /donate -> the sandbox checkout page ->
 * back to the success page, and the fighting-fund widget's total moves.
 * The whole service runs as `npm start` runs it (sandbox payments, no Stripe keys).
 * Run with `npm run test:e2e`; it fails loudly when no Chromium is found.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { freePort } from '../../src/lib/net.js';
import { startService, type RunningService } from '../../src/service.js';
import { createTestDatabase } from '../support/test-app.js';

const screenshots = path.resolve('var/e2e');

function findChromium(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find((c): c is string => !!c && fs.existsSync(c));
  if (!found) {
    throw new Error(
      'No Chromium found for the browser test. Install Debian\'s package (apt-get install chromium) or set CHROMIUM_PATH.',
    );
  }
  return found;
}

describe('donating through the sandbox in a browser', () => {
  let service: RunningService;
  let browser: Browser;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const executablePath = findChromium();
    const database = await createTestDatabase();
    drop = database.drop;
    const port = await freePort();
    const config = loadConfig({
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'reader-coop-e2e-')),
      LOG_LEVEL: 'warn',
    });
    expect(config.stripe.sandbox).toBe(true);
    service = await startService(config, createLogger('warn'));
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    fs.mkdirSync(screenshots, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await drop?.();
  });

  it('when a reader gives £12.50 on /donate and pays on the sandbox page, then the widget total grows by £12.50', async () => {
    const before = (await (await fetch(`${service.url}/api/fighting-fund`)).json()) as { raised: number };
    const page = await browser.newPage();

    await page.goto(`${service.url}/donate`);
    await expect(page.getByText('SANDBOX').first().isVisible()).resolves.toBe(true);
    await page.getByRole('textbox', { name: /amount in pounds/i }).fill('12.50');
    await page.getByRole('textbox', { name: /email/i }).fill(`e2e-${Date.now()}@example.org`);
    await page.screenshot({ path: path.join(screenshots, '1-donate.png'), fullPage: true });
    await page.getByRole('button', { name: /donate/i }).click();

    await page.waitForURL(/\/sandbox\/checkout\//);
    await expect(page.getByText('£12.50').first().isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(screenshots, '2-sandbox-checkout.png'), fullPage: true });
    await page.getByRole('button', { name: /pay by card/i }).click();

    await page.waitForURL(/\/checkout\/success/);
    await page.screenshot({ path: path.join(screenshots, '3-success.png'), fullPage: true });

    const expected = before.raised + 1250;
    let raised = before.raised;
    for (let i = 0; i < 50 && raised !== expected; i++) {
      await new Promise((r) => setTimeout(r, 200));
      raised = ((await (await fetch(`${service.url}/api/fighting-fund`)).json()) as { raised: number }).raised;
    }
    expect(raised).toBe(expected);

    await page.goto(`${service.url}/widget/fighting-fund`);
    const pounds = `£${Math.floor(expected / 100).toLocaleString('en-GB')}`;
    await expect(page.getByText(pounds).first().isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(screenshots, '4-widget.png'), fullPage: true });
  });
});
