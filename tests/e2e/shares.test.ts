/**
 * A reader becomes a member in a real browser: /shares -> the sandbox checkout
 * -> signs in with the emailed link -> /account shows the holding and member
 * number, and the share certificate downloads.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotsDir, startBrowserService, type BrowserService } from '../support/browser.js';

describe('buying shares through the sandbox in a browser', () => {
  let env: BrowserService;
  beforeAll(async () => {
    env = await startBrowserService();
  });
  afterAll(() => env?.close());

  it('when a reader applies for 25 shares and pays, then after signing in by email they see 25 shares, a member number and their certificate', async () => {
    const { service, browser } = env;
    const email = `member-${Date.now()}@example.org`;
    const page = await browser.newPage();

    await page.goto(`${service.url}/shares`);
    await page.getByLabel('Number of shares').fill('25');
    await page.getByLabel(/full name/i).fill('Ada Reader');
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Address line 1').fill('1 Print Street');
    await page.getByLabel('Town or city').fill('Leeds');
    await page.getByLabel('Postcode').fill('LS1 1AA');
    await page.getByLabel('Day').fill('17');
    await page.getByLabel('Month').fill('5');
    await page.getByLabel('Year').fill('1980');
    await page.getByLabel(/accept/i).check();
    await page.screenshot({ path: path.join(screenshotsDir, 'shares-1-form.png'), fullPage: true });
    await page.getByRole('button', { name: /continue to payment/i }).click();

    await page.waitForURL(/\/sandbox\/checkout\//);
    await expect(page.getByText('£25.00').first().isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: /pay by card/i }).click();
    await page.waitForURL(/\/checkout\/success/);

    // The welcome email says the member number; then the reader signs in by email.
    const welcome = await env.waitForEmail(email, /welcome|member/i);
    const number = /member(?:ship)? (?:number|no\.?)[^\d]*(\d+)/i.exec(welcome)?.[1];
    expect(number).toBeDefined();

    await page.goto(`${service.url}/account`);
    await page.getByLabel(/your email address/i).fill(email);
    await page.getByRole('button', { name: /email me a sign-in link/i }).click();
    const signIn = await env.waitForEmail(email, /sign in|sign-in/i);
    const link = /https?:\/\/\S+\/auth\/callback\?token=[\w-]+/.exec(signIn)?.[0];
    expect(link).toBeDefined();
    await page.goto(link!);
    await page.waitForURL(/\/account$/);

    await expect(page.getByRole('row', { name: /member number/i }).textContent()).resolves.toContain(number!);
    await expect(page.getByRole('row', { name: /shares held/i }).textContent()).resolves.toContain('25');
    await expect(page.getByRole('row', { name: /amount paid/i }).textContent()).resolves.toContain('£25.00');
    await page.screenshot({ path: path.join(screenshotsDir, 'shares-2-account.png'), fullPage: true });

    const certificate = await page.request.get(`${service.url}/api/me/certificate.pdf`);
    expect(certificate.status()).toBe(200);
    expect(certificate.headers()['content-type']).toContain('application/pdf');
    expect((await certificate.body()).subarray(0, 5).toString()).toBe('%PDF-');
  });
});
