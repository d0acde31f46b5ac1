/**
 * The whole service as `npm start` runs it (against a test database): it
 * migrates, serves, and on stop finishes the requests already in flight.
 */
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/lib/logger.js';
import { freePort } from '../src/lib/net.js';
import { startService } from '../src/service.js';
import { createTestDatabase } from './support/test-app.js';

describe('the service process', () => {
  it('when it is stopped while a request is half-received, then that request still gets its answer and only then does it stop', async () => {
    const database = await createTestDatabase();
    const port = await freePort();
    const service = await startService(
      loadConfig({
        PORT: String(port),
        DATABASE_URL: database.url,
        DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'reader-coop-service-')),
        LOG_LEVEL: 'silent',
      }),
      createLogger('silent'),
    );
    try {
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

      // Half a body: the server has the request, and is waiting for the rest.
      const body = JSON.stringify({ amount: 0, email: 'inflight@example.org' });
      const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/api/donations', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, body: text }));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => req.end(body.slice(10)), 300);
      });
      await new Promise((r) => setTimeout(r, 100));

      let stopped = false;
      const stopping = service.stop().then(() => (stopped = true));
      const response = await answered;
      expect(stopped).toBe(false);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body).error.code).toBe('invalid_request');
      await stopping;

      // No new connections once stopped.
      await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
    } finally {
      await service.stop();
      await database.drop();
    }
  });
});
