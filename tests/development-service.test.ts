/**
 * The service as `npm start` runs it in development (sandbox payments, emails in
 * the outbox, no PUBLIC_URL).
 *
 * Opened through 127.0.0.1 or a LAN address (a phone on the same network) rather
 * than the default PUBLIC_URL's localhost, forms and redirects stay on the address
 * the reader used, and no header sends the browser to an https:// that is not there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/lib/logger.js';
import { freePort } from '../src/lib/net.js';
import { startService, type RunningService } from '../src/service.js';
import { startTestApp } from './support/test-app.js';
import { createTestDatabase } from './support/test-app.js';

describe('a reader on another address than localhost (development, no PUBLIC_URL)', () => {
  let service: RunningService;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    service = await startService(
      loadConfig({
        PORT: String(await freePort()),
        DATABASE_URL: database.url,
        DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'reader-coop-any-address-')),
        LOG_LEVEL: 'silent',
      }),
      createLogger('silent'),
    );
  });
  afterAll(async () => {
    await service.stop();
    await drop();
  });

  it('when the donate page is opened over plain http, then its CSP neither upgrades requests to https nor sends HSTS, and lets forms post to the page itself', async () => {
    const res = await fetch(`${service.url}/donate`);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('when the donate form is sent through 127.0.0.1, then the checkout and its return page are on 127.0.0.1 too, not localhost', async () => {
    const form = new URLSearchParams({ amount: '5', email: `any-address-${Date.now()}@example.org` });
    const posted = await fetch(`${service.url}/donate`, { method: 'POST', body: form, redirect: 'manual' });
    expect(posted.status).toBe(303);
    const checkout = posted.headers.get('location')!;
    expect(checkout).toMatch(new RegExp(`^${service.url}/sandbox/checkout/cs_`));

    const paid = await fetch(`${checkout}/pay`, { method: 'POST', body: new URLSearchParams({ method: 'card' }), redirect: 'manual' });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toMatch(new RegExp(`^${service.url}/checkout/success\\?`));
  });

  it('when a gift is paid in the sandbox, then /sandbox and /sandbox/emails list its receipt, and its page shows the text and the HTML, marked SANDBOX', async () => {
    const email = `outbox-${Date.now()}@example.org`;
    const posted = await fetch(`${service.url}/donate`, { method: 'POST', body: new URLSearchParams({ amount: '7', email }), redirect: 'manual' });
    await fetch(`${posted.headers.get('location')}/pay`, { method: 'POST', body: new URLSearchParams({ method: 'card' }), redirect: 'manual' });

    const list = await (await fetch(`${service.url}/sandbox/emails`)).text();
    const row = new RegExp(`<td>${email.replace('.', '\\.')}</td><td><a href="/sandbox/emails/([0-9a-f-]{36})">\\[SANDBOX\\] ([^<]+)</a>`).exec(list);
    expect(row, list).not.toBeNull();
    expect(await (await fetch(`${service.url}/sandbox`)).text()).toContain(`/sandbox/emails/${row![1]}`);

    const page = await (await fetch(`${service.url}/sandbox/emails/${row![1]}`)).text();
    expect(page).toContain('SANDBOX: a test email');
    expect(page).toContain('£7.00');
    expect(page).toContain(`<iframe src="/sandbox/emails/${row![1]}/html"`);
    const html = await fetch(`${service.url}/sandbox/emails/${row![1]}/html`);
    expect(html.headers.get('content-security-policy')).toContain('sandbox');
    const body = await html.text();
    expect(body).toContain('£7.00');
    expect(body).toContain('SANDBOX');

    expect((await fetch(`${service.url}/sandbox/emails/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });
});

describe('a service whose PUBLIC_URL is https', () => {
  it('when a page is served, then it carries HSTS and upgrade-insecure-requests', async () => {
    const app = await startTestApp({ env: { PUBLIC_URL: 'https://fund.example.org' } });
    try {
      const res = await app.request('GET', '/donate');
      expect(res.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
      expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    } finally {
      await app.close();
    }
  });
});
