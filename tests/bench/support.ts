/**
 * What every benchmark needs: a PostgreSQL server (BENCH_DATABASE_URL or
 * TEST_DATABASE_URL, else an embedded one under var/bench), scratch databases
 * with every migration applied, and the real app started on a free port.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/app.js';
import { buildPaymentHandlers } from '../../src/composition.js';
import type { AppDeps } from '../../src/deps.js';
import { loadConfig } from '../../src/config.js';
import { adminQuery, withDatabase } from '../../src/db/admin.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { freePort } from '../../src/lib/net.js';
import { createStripeClient } from '../../src/payments/stripe-client.js';
import { createStripeInbox } from '../../src/payments/stripe-inbox.js';

export const BENCH_WEBHOOK_SECRET = 'whsec_bench_reader_coop';

export interface BenchServer {
  url: string;
  stop(): Promise<void>;
}

export async function startBenchPostgres(): Promise<BenchServer> {
  const given = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (given) return { url: given, stop: async () => undefined };
  const embedded = await startEmbeddedPostgres({
    dataDir: path.resolve('var/bench'),
    port: await freePort(),
    logger: createLogger('silent'),
    database: 'postgres',
  });
  return { url: embedded.url, stop: embedded.stop };
}

export interface ScratchDatabase {
  url: string;
  handle: DatabaseHandle;
  drop(): Promise<void>;
}

/** A new database on `serverUrl` with every migration applied. */
export async function createScratchDatabase(serverUrl: string, poolSize = 20): Promise<ScratchDatabase> {
  const name = `reader_coop_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, `create database "${name}"`);
  const url = withDatabase(serverUrl, name);
  const handle = connectDatabase(url, { max: poolSize });
  await migrateToLatest(handle.db, handle.pool);
  return {
    url,
    handle,
    async drop() {
      await handle.close();
      await adminQuery(serverUrl, `drop database if exists "${name}" with (force)`);
    },
  };
}

export interface BenchApp {
  url: string;
  deps: AppDeps;
  close(): Promise<void>;
}

/** The real app, configured as in production (info logs, written to /dev/null), on a free port. */
export async function startBenchApp(database: ScratchDatabase, env: Record<string, string> = {}): Promise<BenchApp> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-bench-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    STRIPE_SECRET_KEY: 'sk_test_bench',
    STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
    STRIPE_API_BASE: 'http://127.0.0.1:9',
    AUTH_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    ...env,
  });
  const { pino } = await import('pino');
  const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: false }));
  const deps: AppDeps = {
    config,
    db: database.handle.db,
    clock: systemClock,
    logger,
    stripe: createStripeClient({ secretKey: config.stripe.secretKey!, apiBase: config.stripe.apiBase }),
    stripeWebhookSecret: BENCH_WEBHOOK_SECRET,
  };
  // As service.ts runs it: recorded events are applied at once, and the queue is polled every second.
  const stripeInbox = (deps.stripeInbox = createStripeInbox(deps, buildPaymentHandlers(deps)));
  stripeInbox.start();
  const server = buildApp(deps).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deps,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stripeInbox.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
export async function inParallel<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item);
    }
  });
  await Promise.all(lanes);
}

export function printFigure(name: string, figure: string, pass?: boolean): void {
  const verdict = pass === undefined ? '' : pass ? '  [meets target]' : '  [BELOW TARGET]';
  console.log(`${name.padEnd(44)} ${figure}${verdict}`);
}
