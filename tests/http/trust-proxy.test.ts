import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

const unique = () => `tp-${randomUUID().slice(0, 8)}@example.org`;

async function loginStatuses(app: TestApp, count: number, headersOf: (i: number) => Record<string, string>) {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await app.request('POST', '/api/auth/login', { json: { email: unique() }, headers: headersOf(i) })).status);
  return statuses;
}

describe('TRUST_PROXY: whose X-Forwarded-For decides the client address', () => {
  describe('when TRUST_PROXY is unset', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp();
    });
    afterAll(() => app.close());

    it('then a client on loopback cannot choose its address: 21 logins with 21 made-up X-Forwarded-For are one IP, and the 21st is 429', async () => {
      const statuses = await loginStatuses(app, 21, (i) => ({ 'x-forwarded-for': `203.0.113.${i + 1}` }));
      expect(statuses.slice(0, 20).every((s) => s === 202)).toBe(true);
      expect(statuses[20]).toBe(429);
    });
  });

  describe('when TRUST_PROXY names the proxy (loopback)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ env: { TRUST_PROXY: 'loopback' } });
    });
    afterAll(() => app.close());

    it("then the proxy's X-Forwarded-For is the client: one client is limited, another behind the same proxy is not", async () => {
      const statuses = await loginStatuses(app, 21, () => ({ 'x-forwarded-for': '203.0.113.200' }));
      expect(statuses[20]).toBe(429);
      expect((await loginStatuses(app, 1, () => ({ 'x-forwarded-for': '203.0.113.201' })))[0]).toBe(202);
    });
  });
});
