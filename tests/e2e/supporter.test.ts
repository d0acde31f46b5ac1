/**
 * A reader becomes a monthly supporter in a real browser: /donate (Monthly) ->
 * the sandbox checkout -> signs in by email -> /account shows the support ->
 * changes the amount (pending, then confirmed) -> cancels it; then, signed out,
 * from the link in the welcome email keeps it going, and from the link in the
 * email confirming that, cancels it again (each link works once).
 * Run with `npm run test:e2e`.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotsDir, seriousViolations, startBrowserService, type BrowserService } from '../support/browser.js';

describe('becoming a monthly supporter through the sandbox in a browser', () => {
  let env: BrowserService;
  beforeAll(async () => {
    env = await startBrowserService();
  });
  afterAll(() => env.close());

  it('when a reader chooses Monthly on /donate and pays, then after signing in they see it on /account, change it and cancel it, and from the emailed links undo and cancel again', async () => {
    const { service, browser } = env;
    const email = `e2e-supporter-${Date.now()}@example.org`;
    const page = await browser.newPage();

    await page.goto(`${service.url}/donate`);
    await page.getByRole('radio', { name: 'Monthly' }).check();
    await page.getByRole('textbox', { name: /amount in pounds/i }).fill('6');
    await page.getByRole('textbox', { name: /email/i }).fill(email);
    await page.getByRole('textbox', { name: /your name/i }).fill('Robin Reader');
    await page.screenshot({ path: path.join(screenshotsDir, 'supporter-1-donate-monthly.png'), fullPage: true });
    await page.getByRole('button', { name: /donate/i }).click();

    await page.waitForURL(/\/sandbox\/checkout\//);
    await expect(page.getByText('£6.00 every month').first().isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: /pay by card/i }).click();
    await page.waitForURL(/\/checkout\/success/);

    const welcome = await env.waitForEmail(email, /thank you for supporting/i);
    expect(welcome).toContain('/supporter/manage?token=');

    await page.goto(`${service.url}/account`);
    await page.getByRole('textbox', { name: /email/i }).fill(email);
    await page.getByRole('button', { name: /email me a sign-in link/i }).click();
    const signIn = await env.waitForEmail(email, /sign in|sign-in/i);
    const link = /https?:\/\/\S+\/auth\/callback\?token=[\w-]+/.exec(signIn)?.[0];
    expect(link).toBeDefined();
    await page.goto(link!);
    await page.waitForURL(/\/account$/);
    const section = page.locator('#supporter');
    await expect(section.getByText('£6.00 a month').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(screenshotsDir, 'supporter-2-account.png'), fullPage: true });

    await section.getByRole('textbox', { name: /amount in pounds/i }).fill('8');
    await section.getByRole('button', { name: /change my support/i }).click();
    await page.waitForURL(/\/account/);
    let confirmed = false;
    for (let i = 0; i < 50 && !confirmed; i++) {
      await page.goto(`${service.url}/account`);
      confirmed = await section.getByText('£8.00 a month').isVisible();
      if (!confirmed) await new Promise((r) => setTimeout(r, 200));
    }
    expect(confirmed).toBe(true);
    await page.screenshot({ path: path.join(screenshotsDir, 'supporter-3-changed.png'), fullPage: true });

    await section.getByRole('button', { name: /cancel my support/i }).click();
    let cancelled = false;
    for (let i = 0; i < 50 && !cancelled; i++) {
      await page.goto(`${service.url}/account`);
      cancelled = await section.getByRole('button', { name: /keep my support going/i }).isVisible();
      if (!cancelled) await new Promise((r) => setTimeout(r, 200));
    }
    expect(cancelled).toBe(true);
    await expect(section.getByText(/ending at the close of the period/).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(screenshotsDir, 'supporter-4-cancelled.png'), fullPage: true });

    // From the welcome email's one-click link, in a browser that is not signed in.
    const manageUrl = /https?:\/\/\S+\/supporter\/manage\?token=[\w.-]+/.exec(welcome)?.[0];
    expect(manageUrl).toBeDefined();
    const stranger = await browser.newContext();
    const linkPage = await stranger.newPage();
    await linkPage.goto(manageUrl!);
    await expect(linkPage.getByText(/ending at the close of the period/).isVisible()).resolves.toBe(true);
    expect(await seriousViolations(linkPage)).toEqual([]);
    const keptAt = Date.now();
    await linkPage.getByRole('button', { name: /keep my support going/i }).click();
    await expect(linkPage.getByRole('status').textContent()).resolves.toMatch(/Done/);
    await expect.poll(async () => (await page.goto(`${service.url}/account`), await section.getByRole('button', { name: /cancel my support/i }).isVisible()), { timeout: 10_000 }).toBe(true);
    await linkPage.goto(manageUrl!);
    // A link works once; the email confirming the change brings a fresh one.
    await expect(linkPage.getByText(/already been used/).isVisible()).resolves.toBe(true);

    const changed = await env.waitForEmail(email, /your support has changed/i, { writtenAfter: keptAt });
    const freshUrl = /https?:\/\/\S+\/supporter\/manage\?token=[\w.-]+/.exec(changed)?.[0];
    expect(freshUrl).toBeDefined();
    await linkPage.goto(freshUrl!);
    await linkPage.getByRole('button', { name: /cancel my support/i }).click();
    await expect(linkPage.getByRole('status').textContent()).resolves.toMatch(/Done/);
    await linkPage.screenshot({ path: path.join(screenshotsDir, 'supporter-5-cancelled-from-email.png'), fullPage: true });
    await expect.poll(async () => (await page.goto(`${service.url}/account`), await section.getByRole('button', { name: /keep my support going/i }).isVisible()), { timeout: 10_000 }).toBe(true);
    await stranger.close();
  });
});
