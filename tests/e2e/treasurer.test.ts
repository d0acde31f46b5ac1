/**
 * A treasurer runs the fund from /admin in a real browser: signs in by email,
 * records a cheque, imports a bank statement (preview, then book), and approves
 * a member's share withdrawal, which emails the member.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotsDir, startBrowserService, type BrowserService } from '../support/browser.js';

describe('the treasurer’s desk in a browser', () => {
  let env: BrowserService;
  beforeAll(async () => {
    env = await startBrowserService();
  });
  afterAll(() => env.close());

  it('when a treasurer records a cheque, imports a statement and approves a withdrawal, then each shows on the pages and the member is emailed', async () => {
    const { service, browser } = env;
    const db = service.database.db;
    const stamp = Date.now();
    const treasurer = `treasurer-${stamp}@example.org`;
    await db.insertInto('people').values({ email: treasurer, roles: ['treasurer'] }).execute();

    // A member who asked to withdraw shares: bought through the sandbox, the request recorded as the account page would.
    const memberEmail = `member-${stamp}@example.org`;
    const applied = (await (
      await fetch(`${service.url}/api/share-applications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          shares: 50,
          applicant: { kind: 'person', name: 'Mo Member', email: memberEmail, address: { line1: '2 Press Row', town: 'Hull', postcode: 'HU1 1AA', country: 'United Kingdom' }, dateOfBirth: '1970-01-01' },
          acceptRules: true,
        }),
      })
    ).json()) as { checkoutUrl: string };
    const page = await browser.newPage();
    await page.goto(applied.checkoutUrl);
    await page.getByRole('button', { name: /pay by card/i }).click();
    await page.waitForURL(/\/checkout\/success/);
    await env.waitForEmail(memberEmail, /welcome|member/i);
    const member = await db.selectFrom('members').selectAll().where('email', '=', memberEmail).executeTakeFirstOrThrow();
    const now = new Date();
    await db
      .insertInto('share_withdrawals')
      .values({ member_id: member.id, shares: 20, requested_at: now, requested_by: member.person_id, notice_ends_on: '2027-03-01', updated_at: now })
      .execute();

    // Sign in as the treasurer, by email.
    await page.goto(`${service.url}/account`);
    await page.getByLabel(/your email address/i).fill(treasurer);
    await page.getByRole('button', { name: /email me a sign-in link/i }).click();
    const signIn = await env.waitForEmail(treasurer, /sign in|sign-in/i);
    await page.goto(/https?:\/\/\S+\/auth\/callback\?token=[\w-]+/.exec(signIn)![0]);
    await page.waitForURL(/\/account$/);

    // Today, then a cheque.
    await page.goto(`${service.url}/admin`);
    await expect(page.getByRole('heading', { name: 'Today' }).isVisible()).resolves.toBe(true);
    await page.getByRole('link', { name: /record a cheque/i }).click();
    await page.getByLabel('Amount (£)').fill('25.00');
    await page.getByLabel('How it came').selectOption('cheque');
    await page.getByLabel(/^Reference/).fill(`cheque ${stamp}`);
    await page.getByLabel(/thanked by name/i).check();
    await page.getByLabel('Name', { exact: true }).fill('Ann Reader');
    await page.getByLabel('Town').fill('Leeds');
    await page.screenshot({ path: path.join(screenshotsDir, 'treasurer-1-cheque.png'), fullPage: true });
    await page.getByRole('button', { name: /book the gift/i }).click();
    await page.waitForURL(/\/admin\/ledger\?done=gift_recorded/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('The gift is booked');
    await expect(page.getByRole('row', { name: new RegExp(`cheque ${stamp}`) }).textContent()).resolves.toContain('£25.00');

    // A bank statement: preview, then book; the same file again books nothing new.
    const statement = Buffer.from(`date,amount,reference,name,town,acknowledge\n${now.toISOString().slice(0, 10)},10.00,BGC ${stamp} 1,Jo Smith,York,yes\n${now.toISOString().slice(0, 10)},5.50,BGC ${stamp} 2,,,\n`);
    await page.goto(`${service.url}/admin/import`);
    await page.getByLabel('Statement (CSV file)').setInputFiles({ name: 'statement.csv', mimeType: 'text/csv', buffer: statement });
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.getByText('2 rows: 2 new, 0 already booked, 0 wrong').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(screenshotsDir, 'treasurer-2-import-preview.png'), fullPage: true });
    await page.getByRole('button', { name: /book 2 new gifts/i }).click();
    await expect(page.getByText(/Booked 2 new gifts \(£15\.50\)/).isVisible()).resolves.toBe(true);
    await page.getByLabel('Statement (CSV file)').setInputFiles({ name: 'statement.csv', mimeType: 'text/csv', buffer: statement });
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.getByText('2 rows: 0 new, 2 already booked, 0 wrong').isVisible()).resolves.toBe(true);

    // The withdrawal: approved from the queue, and the member hears of it.
    await page.goto(`${service.url}/admin/withdrawals`);
    await expect(page.getByText('Mo Member').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(screenshotsDir, 'treasurer-3-withdrawals.png'), fullPage: true });
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/done=withdrawal_approved/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('approved');
    const mail = await env.waitForEmail(memberEmail, /approved/i);
    expect(mail).toContain('approved your request to withdraw 20 shares');
  });
});
