/**
 * An instance killed while its job worker holds jobs: the others notice its
 * heartbeat stopped and unlock its jobs (graphile_worker.force_unlock_workers), so
 * the work resumes within a minute instead of graphile-worker's 4-hour lock timeout.
 * The instance is a real child process running the service, killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueEmail } from '../../src/email/outbox.service.js';
import { startTestApp, TEST_WEBHOOK_SECRET, type TestApp } from '../support/test-app.js';

describe('an instance killed while it holds jobs', () => {
  let app: TestApp;
  let silentSmtp: net.Server;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    // This instance: its job workers announce themselves every 200 ms and take over after 2 s of silence.
    app = await startTestApp({ now: '2026-11-20T12:00:00Z', liveness: { beatMs: 200, deadAfterMs: 2_000 } });
    // An SMTP server that accepts connections and never greets: the other instance's sends hang there.
    silentSmtp = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silentSmtp.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silentSmtp.close(() => resolve()));
    await app.close();
  });

  it('when the instance holding email jobs is killed with SIGKILL, then another instance sends them within the minute', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-killed-'));
    const child = await startServiceProcess({
      PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: app.databaseUrl,
      STRIPE_SECRET_KEY: 'sk_test_reader_coop',
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      STRIPE_API_BASE: app.stripe.url,
      AUTH_SECRET: 'test-secret-test-secret-test-secret-0123456789',
      SMTP_URL: `smtp://127.0.0.1:${(silentSmtp.address() as net.AddressInfo).port}`,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
    });
    try {
      // Queued as any component queues mail; this instance runs no email worker yet, so the other takes them.
      const emails = await app.db.transaction().execute(async (trx) => [
        await queueEmail(app.deps, trx, { to: 'takeover-1@example.org', template: 'donation-receipt', vars: { amount: '£5.00' } }),
        await queueEmail(app.deps, trx, { to: 'takeover-2@example.org', template: 'donation-receipt', vars: { amount: '£6.00' } }),
      ]);
      const keys = emails.map((e) => `send-email:${e.emailId}`);
      const holders = async () =>
        (await sql<{ locked_by: string | null; instance: string | null }>`
          select j.locked_by, h.instance from graphile_worker.jobs j left join worker_heartbeats h on h.worker_id = j.locked_by
           where j.key = any(${keys}::text[])`.execute(app.db)).rows;
      await expect.poll(async () => (await holders()).filter((h) => h.instance?.endsWith(`:${child.process.pid}`)).length, { timeout: 20_000 }).toBe(2);

      child.process.kill('SIGKILL');
      await child.exited;
      // Killed mid-send: both jobs still locked by the dead instance, nothing sent.
      expect((await holders()).every((h) => h.locked_by !== null)).toBe(true);
      expect(await sentCount(app, emails.map((e) => e.emailId))).toBe(0);

      // This instance's full job worker (emails included) takes them over once the heartbeat is 2 s stale.
      await app.startWorker();
      await expect.poll(() => sentCount(app, emails.map((e) => e.emailId)), { timeout: 60_000, interval: 200 }).toBe(2);
      const files = await fs.readdir(path.join(app.dataDir, 'outbox'));
      expect(files.filter((f) => emails.some((e) => f.includes(e.emailId)))).toHaveLength(2);
      // The dead instance's heartbeat was removed when its jobs were unlocked.
      const beats = await app.db.selectFrom('worker_heartbeats').select('instance').execute();
      expect(beats.filter((b) => b.instance.endsWith(`:${child.process.pid}`))).toEqual([]);
    } finally {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

async function sentCount(app: TestApp, emailIds: string[]): Promise<number> {
  const rows = await app.db.selectFrom('emails').select('sent_at').where('id', 'in', emailIds).execute();
  return rows.filter((r) => r.sent_at !== null).length;
}

/** `node tests/support/service-process.mjs` with this environment; resolves once it listens. */
async function startServiceProcess(env: Record<string, string>): Promise<{ process: ChildProcess; exited: Promise<void> }> {
  const script = new URL('../support/service-process.mjs', import.meta.url).pathname;
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the service process exited (${code}) before it was ready`)));
  });
  return { process: child, exited };
}
