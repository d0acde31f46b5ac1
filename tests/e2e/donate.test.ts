/**
 * A reader donates in a real browser: /donate -> the sandbox checkout page ->
 * back to the success page, and the fighting-fund widget's total moves.
 * Run with `npm run test:e2e`; it fails loudly when no Chromium is found.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotsDir, startBrowserService, type BrowserService } from '../support/browser.js';

describe('donating through the sandbox in a browser', () => {
  let env: BrowserService;
  beforeAll(async () => {
    env = await startBrowserService();
  });
  afterAll(() => env?.close());

  it('when a reader gives £12.50 on /donate and pays on the sandbox page, then the widget total grows by £12.50', async () => {
    const { service, browser } = env;
    const before = (await (await fetch(`${service.url}/api/fighting-fund`)).json()) as { raised: number };
    const page = await browser.newPage();

    await page.goto(`${service.url}/donate`);
    await expect(page.getByText('SANDBOX').first().isVisible()).resolves.toBe(true);
    await page.getByRole('textbox', { name: /amount in pounds/i }).fill('12.50');
    await page.getByRole('textbox', { name: /email/i }).fill(`e2e-${Date.now()}@example.org`);
    await page.screenshot({ path: path.join(screenshotsDir, 'donate-1-form.png'), fullPage: true });
    await page.getByRole('button', { name: /donate/i }).click();

    await page.waitForURL(/\/sandbox\/checkout\//);
    await expect(page.getByText('£12.50').first().isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(screenshotsDir, 'donate-2-sandbox-checkout.png'), fullPage: true });
    await page.getByRole('button', { name: /pay by card/i }).click();

    await page.waitForURL(/\/checkout\/success/);
    await page.screenshot({ path: path.join(screenshotsDir, 'donate-3-success.png'), fullPage: true });

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
    await page.screenshot({ path: path.join(screenshotsDir, 'donate-4-widget.png'), fullPage: true });
  });
});
