/**
 * The reader's pages in a real browser, at a phone's width and a desktop's:
 * donate (suggested amounts, errors, cancelling, paying), shares (the choice of
 * person or organisation, the date of birth, paying, the member number), sign-in
 * and the account. Every page is checked with axe-core: no serious or critical
 * violation.
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotsDir, seriousViolations, startBrowserService, type BrowserService } from '../support/browser.js';

const viewports = [
  { name: 'phone', viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true },
  { name: 'desktop', viewport: { width: 1280, height: 900 }, isMobile: false, hasTouch: false },
] as const;

describe('the reader pages in a browser', () => {
  let env: BrowserService;
  beforeAll(async () => {
    env = await startBrowserService();
  });
  afterAll(() => env.close());

  it('the other public pages (home, widget codes, acknowledgements, a cancelled checkout, a page not found) pass axe too', async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    for (const pathname of ['/', '/widget', '/acknowledgements', '/checkout/cancelled', '/checkout/success', '/no-such-page']) {
      await page.goto(`${env.service.url}${pathname}`);
      expect(await seriousViolations(page)).toEqual([]);
    }
    await context.close();
  });

  for (const device of viewports) {
    describe(`at ${device.name} width`, () => {
      let context: BrowserContext;
      beforeAll(async () => {
        context = await env.browser.newContext({ viewport: device.viewport, isMobile: device.isMobile, hasTouch: device.hasTouch });
      });
      afterAll(() => context.close());
      const shot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshotsDir, `${device.name}-${name}.png`), fullPage: true });

      it('donate: a suggested amount fills the box without a reload, errors name the rule and take the focus, cancelling comes back filled in, paying thanks the reader with the new total', async () => {
        const { service } = env;
        const page = await context.newPage();
        const email = `e2e-donor-${device.name}-${Date.now()}@example.org`;
        await page.goto(`${service.url}/donate`);
        expect(await seriousViolations(page)).toEqual([]);

        // A suggested amount: the box fills in on the same page (no navigation), and the choice shows.
        await page.evaluate('window.marker = 42');
        await page.locator('label[for="suggested-25"]').click();
        await expect(page.getByRole('textbox', { name: /amount in pounds/i }).inputValue()).resolves.toBe('25');
        await expect(page.evaluate('window.marker')).resolves.toBe(42);
        await expect(page.locator('#suggested-25').isChecked()).resolves.toBe(true);
        const background = (id: string) => page.evaluate(`getComputedStyle(document.querySelector('label[for="${id}"]')).backgroundColor`);
        const chosen = await background('suggested-25');
        const other = await background('suggested-10');
        expect(chosen).toBeTruthy();
        expect(chosen).not.toBe(other);
        await expect(page.locator('.money-input .currency-sign').textContent()).resolves.toBe('£');

        // Too little, and no email: the page names the rule, its title says Error:, the summary has the focus.
        await page.getByRole('textbox', { name: /amount in pounds/i }).fill('0,50');
        await page.getByRole('button', { name: /^donate/i }).click();
        await page.waitForSelector('.error-summary');
        await expect(page.title()).resolves.toMatch(/^Error: /);
        await expect(page.evaluate("document.activeElement && document.activeElement.classList.contains('error-summary')")).resolves.toBe(true);
        await expect(page.locator('.error-summary').textContent()).resolves.toContain('at least £1');
        expect(await seriousViolations(page)).toEqual([]);
        await shot(page, 'donate-error');

        // 5,50 is £5.50; cancel on the payment page, and the form comes back as it was.
        await page.getByRole('textbox', { name: /amount in pounds/i }).fill('5,50');
        await page.getByRole('textbox', { name: /email/i }).fill(email);
        await page.getByRole('button', { name: /^donate/i }).click();
        await page.waitForURL(/\/sandbox\/checkout\//);
        await expect(page.getByText('£5.50').first().isVisible()).resolves.toBe(true);
        await page.getByRole('button', { name: /cancel/i }).click();
        await page.waitForURL(/\/donate\/resume\//);
        await expect(page.getByText('Payment cancelled: nothing was taken.').isVisible()).resolves.toBe(true);
        await expect(page.getByRole('textbox', { name: /amount in pounds/i }).inputValue()).resolves.toBe('5.50');
        await expect(page.getByRole('textbox', { name: /email/i }).inputValue()).resolves.toBe(email);
        expect(await seriousViolations(page)).toEqual([]);

        await page.getByRole('button', { name: /^donate/i }).click();
        await page.waitForURL(/\/sandbox\/checkout\//);
        await page.getByRole('button', { name: /pay by card/i }).click();
        await page.waitForURL(/\/checkout\/success/);
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('your £5.50 gift is in the fighting fund');
        await expect(page.getByText(/has raised £[\d,]+ of its £[\d,]+ target/).isVisible()).resolves.toBe(true);
        await expect(page.getByText(/Your receipt is on its way to/).isVisible()).resolves.toBe(true);
        expect(await seriousViolations(page)).toEqual([]);
        await shot(page, 'donate-thanks');
        await page.close();
      });

      it('shares: the fields follow the choice of person or organisation, the date of birth is three boxes, and after paying the page gives the member number', async () => {
        const { service } = env;
        const page = await context.newPage();
        const email = `e2e-member-${device.name}-${Date.now()}@example.org`;
        await page.goto(`${service.url}/shares`);
        expect(await seriousViolations(page)).toEqual([]);

        await page.locator('label[for="kind-organisation"]').click();
        await expect(page.getByRole('group', { name: /date of birth/i }).isVisible()).resolves.toBe(false);
        await expect(page.getByLabel(/registered society/i).isVisible()).resolves.toBe(true);
        await page.locator('label[for="kind"]').click();
        await expect(page.getByRole('group', { name: /date of birth/i }).isVisible()).resolves.toBe(true);
        await expect(page.getByLabel(/registered society/i).isVisible()).resolves.toBe(false);

        await page.getByLabel('Number of shares').fill('3');
        await page.getByLabel(/full name/i).fill('Ada Reader');
        await page.getByLabel('Email address').fill(email);
        await page.getByLabel('Address line 1').fill('1 Print Street');
        await page.getByLabel('Town or city').fill('Leeds');
        await page.getByLabel('Postcode').fill('LS1 1AA');
        await page.getByLabel('Day').fill('17');
        await page.getByLabel('Month').fill('5');
        await page.getByLabel('Year').fill('1980');
        await page.getByLabel(/accept/i).check();
        await shot(page, 'shares-form');
        await page.getByRole('button', { name: /continue to payment/i }).click();
        await page.waitForURL(/\/sandbox\/checkout\//);
        await page.getByRole('button', { name: /pay by card/i }).click();
        await page.waitForURL(/\/checkout\/success/);
        // The allotment follows the payment's event: the page refreshes itself until the number is there.
        await page.waitForFunction("/member number \\d+/.test((document.querySelector('h1') || {}).textContent || '')", undefined, { timeout: 30_000 });
        await expect(page.getByRole('link', { name: /sign in to your account/i }).isVisible()).resolves.toBe(true);
        expect(await seriousViolations(page)).toEqual([]);
        await shot(page, 'shares-thanks');
        await page.close();
      });

      it('sign-in and the account: every page passes axe, and the account shows the postal address the register holds', async () => {
        const { service } = env;
        const page = await context.newPage();
        const email = `e2e-account-${device.name}-${Date.now()}@example.org`;
        // A member first, so the account has a register entry to show.
        await page.goto(`${service.url}/shares`);
        await page.getByLabel('Number of shares').fill('2');
        await page.getByLabel(/full name/i).fill('Bea Reader');
        await page.getByLabel('Email address').fill(email);
        await page.getByLabel('Address line 1').fill('9 Press Lane');
        await page.getByLabel('Town or city').fill('York');
        await page.getByLabel('Postcode').fill('YO1 7HH');
        await page.getByLabel('Day').fill('1');
        await page.getByLabel('Month').fill('2');
        await page.getByLabel('Year').fill('1970');
        await page.getByLabel(/accept/i).check();
        await page.getByRole('button', { name: /continue to payment/i }).click();
        await page.waitForURL(/\/sandbox\/checkout\//);
        await page.getByRole('button', { name: /pay by card/i }).click();
        await page.waitForURL(/\/checkout\/success/);
        await page.waitForFunction("/member number \\d+/.test((document.querySelector('h1') || {}).textContent || '')", undefined, { timeout: 30_000 });

        await page.goto(`${service.url}/account`);
        expect(await seriousViolations(page)).toEqual([]);
        await page.getByLabel(/your email address/i).fill(email);
        await page.getByRole('button', { name: /email me a sign-in link/i }).click();
        await page.waitForLoadState();
        expect(await seriousViolations(page)).toEqual([]);
        const signIn = await env.waitForEmail(email, /sign in|sign-in/i);
        const link = /https?:\/\/\S+\/auth\/callback\?token=[\w-]+/.exec(signIn)![0];
        await page.goto(link);
        await page.waitForURL(/\/account$/);
        await expect(page.getByRole('row', { name: /postal address in the register/i }).textContent()).resolves.toContain('9 Press Lane, York, YO1 7HH');
        expect(await seriousViolations(page)).toEqual([]);
        await shot(page, 'account');
        await page.close();
      });
    });
  }
});
