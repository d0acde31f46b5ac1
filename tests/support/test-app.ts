/**
 * startTestApp(): the real app on port 0, against a database of its own (a copy
 * of the migrated template), with an injected clock, captured logs, a local
 * Stripe-compatible server and helpers to call it over HTTP and to deliver
 * signed webhooks. Nothing here reaches the network.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Runner } from 'graphile-worker';
import Stripe from 'stripe';
import { inject } from 'vitest';
import { buildInstance, type Instance } from '../../src/composition.js';
import type { AppDeps } from '../../src/deps.js';
import { loadConfig, type Config } from '../../src/config.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { FixedClock } from '../../src/lib/clock.js';
import type { JobWorker, LivenessOptions } from '../../src/lib/job-worker.js';
import { createLogger } from '../../src/lib/logger.js';
import { waitForStripeEvents } from '../../src/payments/apply-stripe-events.js';
import { startFakeStripe, type FakeStripe } from './fake-stripe.js';
import { adminQuery, withDatabase } from '../../src/db/admin.js';

export const TEST_WEBHOOK_SECRET = 'whsec_test_reader_coop';

export interface TestAppOptions {
  /** Extra environment (SPEC section 2 names) on top of the test defaults. */
  env?: Record<string, string>;
  /** Where the clock stands; defaults to the real time now. */
  now?: Date | string;
  /**
   * Run the whole graphile-worker job runner beside the app (emails, schedules, ...).
   * Without it, a runner of the payments tasks only still applies webhook events, as in production.
   * 'none': no runner at all until the test starts one (jobs wait, as while every instance is down).
   */
  worker?: boolean | 'none';
  /** The job workers' heartbeat and dead-instance take-over (short in the tests that kill an instance). */
  liveness?: LivenessOptions;
  /** The base URL of another Stripe-compatible server; by default a fake Stripe (tests/support/fake-stripe.ts) is started for the app. */
  stripeApiBase?: string;
}

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface TestApp {
  url: string;
  /** The app's own fake Stripe: recorded requests, failures on demand, pay/refund/dispute helpers. */
  stripe: FakeStripe;
  config: Config;
  /** What the composition root built for this app (deps, registries, the Express app), as service.ts builds it. */
  instance: Instance;
  deps: AppDeps;
  db: DatabaseHandle['db'];
  database: DatabaseHandle;
  databaseUrl: string;
  clock: FixedClock;
  logs: LogLine[];
  dataDir: string;
  /** Calls the app: `json` is sent as the body; the response body is parsed when it is JSON. */
  request(method: string, urlPath: string, options?: RequestOptions): Promise<TestResponse>;
  /**
   * Delivers `event` to POST /webhooks/stripe, signed as Stripe would sign it (or with `signature`),
   * and resolves once the job worker has applied what it recorded (drainStripeEvents).
   */
  deliverWebhook(event: object, options?: WebhookSignature): Promise<TestResponse>;
  /** The same, without waiting: the event is recorded with its job, and applied only when a job worker runs. */
  postWebhook(event: object, options?: WebhookSignature): Promise<TestResponse>;
  /** Resolves when every recorded Stripe event has been applied (or failed into a retry, backing off). */
  drainStripeEvents(): Promise<void>;
  startWorker(): Promise<Runner>;
  close(): Promise<void>;
}

export interface RequestOptions {
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** One HTTP call to the app at `baseUrl`: `json` is sent as the body; the response body is parsed when it is JSON. */
export async function requestTo(baseUrl: string, method: string, urlPath: string, opts: RequestOptions = {}): Promise<TestResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await fetch(baseUrl + urlPath, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Stripe's signature header for `payload`, as Stripe would sign it with the tests' webhook secret. */
export function signWebhook(payload: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret: TEST_WEBHOOK_SECRET, timestamp });
}

export interface WebhookSignature {
  /** The Stripe-Signature header to send instead of a valid one; null sends none. */
  signature?: string | null;
  /** Signs as of this Unix time (a stale or future signature). */
  timestamp?: number;
}

/** POSTs `event` to `baseUrl`/webhooks/stripe, signed as Stripe would sign it: it is recorded, not yet applied. */
export function postSignedWebhook(baseUrl: string, event: object, opts: WebhookSignature = {}): Promise<TestResponse> {
  const payload = JSON.stringify(event);
  const signature = opts.signature === undefined ? signWebhook(payload, opts.timestamp) : opts.signature;
  return requestTo(baseUrl, 'POST', '/webhooks/stripe', {
    body: payload,
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'stripe-signature': signature }) },
  });
}

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { serverUrl, template } = inject('database');
  const name = `reader_coop_test_${process.pid}_${randomBytes(5).toString('hex')}`;
  await adminQuery(serverUrl, `create database "${name}" template "${template}"`);
  return {
    url: withDatabase(serverUrl, name),
    drop: () => adminQuery(serverUrl, `drop database if exists "${name}" with (force)`),
  };
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-test-'));
  const clock = new FixedClock(options.now ?? new Date());
  const fakeStripe = await startFakeStripe({ webhookSecret: TEST_WEBHOOK_SECRET, clock });
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    STRIPE_SECRET_KEY: 'sk_test_reader_coop',
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    STRIPE_API_BASE: options.stripeApiBase ?? fakeStripe.url,
    AUTH_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  const logs: LogLine[] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
        done();
      },
    }),
  );
  const handle = connectDatabase(database.url, { max: 10 });
  // Built by the composition root, as service.ts builds it.
  const instance = buildInstance({ config, db: handle.db, clock, logger, stripeWebhookSecret: TEST_WEBHOOK_SECRET });
  const { deps } = instance;
  const server = instance.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The fake Stripe's deliveries resolve once the app has applied them, so tests assert right after.
  fakeStripe.setWebhook(`${url}/webhooks/stripe`, undefined, () => waitForStripeEvents(deps));

  const workers: JobWorker[] = [];
  const startJobs = async (tasks: 'all' | 'payments') => {
    const worker = await instance.startWorker({
      pool: handle.pool,
      tasks,
      concurrency: 2,
      pollInterval: 100,
      ...(options.liveness ? { liveness: options.liveness } : {}),
    });
    workers.push(worker);
    return worker.runner;
  };
  const startWorker = () => startJobs('all');
  if (options.worker === true) await startWorker();
  else if (options.worker !== 'none') await startJobs('payments');

  const request = (method: string, urlPath: string, opts: RequestOptions = {}) => requestTo(url, method, urlPath, opts);

  const postWebhook = (event: object, opts: WebhookSignature = {}) => postSignedWebhook(url, event, opts);
  const deliverWebhook = async (event: object, opts: WebhookSignature = {}) => {
    const res = await postWebhook(event, opts);
    await waitForStripeEvents(deps);
    return res;
  };

  return {
    url,
    stripe: fakeStripe,
    config,
    instance,
    deps,
    db: handle.db,
    database: handle,
    databaseUrl: database.url,
    clock,
    logs,
    dataDir,
    request,
    deliverWebhook,
    postWebhook,
    drainStripeEvents: () => waitForStripeEvents(deps),
    startWorker,
    async close() {
      // A test may have stopped its worker already (to play a crash); stopping again is a no-op.
      await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
      await fakeStripe.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handle.close();
      await database.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
