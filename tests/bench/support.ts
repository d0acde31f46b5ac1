/**
 * What every benchmark needs: a PostgreSQL server (BENCH_DATABASE_URL or
 * TEST_DATABASE_URL, else an embedded one under var/bench), scratch databases
 * with every migration applied, and the real app started on a free port.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInstance } from '../../src/composition.js';
import type { AppDeps } from '../../src/deps.js';
import { loadConfig } from '../../src/config.js';
import { adminQuery, withDatabase } from '../../src/db/admin.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { freePort } from '../../src/lib/net.js';
import { SERVICE_NODE_FLAGS } from '../../src/node-flags.js';
import { JOB_CONCURRENCY } from '../../src/service.js';

export const BENCH_WEBHOOK_SECRET = 'whsec_bench_reader_coop';

export interface BenchServer {
  url: string;
  stop(): Promise<void>;
}

export async function startBenchPostgres(): Promise<BenchServer> {
  const given = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (given) return { url: given, stop: () => Promise.resolve() };
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

export interface BenchAppOptions {
  env?: Record<string, string>;
  /** false: no job worker in this process (nothing recorded is applied while it runs). Default true. */
  jobWorker?: boolean;
}

/** The real app, configured as in production (info logs, written to /dev/null), on a free port. */
export async function startBenchApp(database: ScratchDatabase, options: BenchAppOptions = {}): Promise<BenchApp> {
  const env = options.env ?? {};
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
  const instance = buildInstance({ config, db: database.handle.db, clock: systemClock, logger, stripeWebhookSecret: BENCH_WEBHOOK_SECRET });
  const { deps } = instance;
  // As service.ts runs it: the job worker applies recorded events as their jobs are added.
  const worker =
    options.jobWorker === false ? undefined : await instance.startWorker({ pool: database.handle.pool, concurrency: JOB_CONCURRENCY, pollInterval: 1000 });
  const server = instance.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deps,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker?.stop();
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

export interface ServiceProcess {
  url: string;
  pid: number;
  /** The process's peak resident set so far (VmHWM, Linux). */
  peakRssMb(): Promise<number>;
  stop(): Promise<void>;
}

const serverScript = fileURLToPath(new URL('../../src/server.js', import.meta.url));

/** The built service (`node dist/src/server.js`) against `databaseUrl`, as in production: info logs (to /dev/null), its own process. */
export async function startServiceProcess(databaseUrl: string): Promise<ServiceProcess> {
  const port = await freePort();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-bench-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    STRIPE_SECRET_KEY: 'sk_test_bench',
    STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
    STRIPE_API_BASE: 'http://127.0.0.1:9',
    AUTH_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    LOG_LEVEL: 'info',
  };
  delete env.NODE_ENV;
  delete env.SMTP_URL;
  // The flags production runs it with; BENCH_SERVICE_NODE_ARGS adds more (e.g. --cpu-prof) when looking into a figure.
  const nodeArgs = [...SERVICE_NODE_FLAGS, ...(process.env.BENCH_SERVICE_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [])];
  const child = spawn(process.execPath, [...nodeArgs, serverScript], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the service was not ready within 60 s');
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    pid: child.pid!,
    async peakRssMb() {
      const status = await fs.readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
      return kb / 1024;
    },
    async stop() {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
