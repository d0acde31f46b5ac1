/**
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
