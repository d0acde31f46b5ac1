/**
 * startTwoInstances(): the service scaled out as in production, two app
 * instances (each its own pool, metrics, and job worker: the payments tasks
 * always, every task when asked) over ONE test database, behind a round-robin proxy as nginx would
 * put them. The result is a TestApp whose `request` and `deliverWebhook`
 * alternate between the instances, and whose fake Stripe delivers to the proxy,
 * so any acceptance scenario written for one app runs unchanged against two.
 * `instances[i]` reaches one instance on purpose (sign in on one, ask the other).
 *
 *   const app = await startTwoInstances({ worker: true });
 *   await app.request('POST', '/api/donations', ...);     // instance 0
 *   await app.request('GET', '/api/fighting-fund');        // instance 1
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Runner, WorkerEvents } from 'graphile-worker';
import { buildInstance, type Instance as ComposedInstance } from '../../src/composition.js';
import { connectDatabase } from '../../src/db/database.js';
import type { AppDeps } from '../../src/deps.js';
import { type JobWorker } from '../../src/lib/job-worker.js';
import { createLogger } from '../../src/lib/logger.js';
import { waitForStripeEvents } from '../../src/payments/apply-stripe-events.js';
import { postSignedWebhook, requestTo, startTestApp, type LogLine, type RequestOptions, type TestApp, type TestAppOptions, type TestResponse } from './test-app.js';

/** One instance of the two: its own URL, deps, logs and worker. */
export interface Instance {
  url: string;
  deps: AppDeps;
  logs: LogLine[];
  request(method: string, urlPath: string, options?: RequestOptions): Promise<TestResponse>;
  /** Delivers a signed event to this instance only (not drained: see the cluster's drainStripeEvents). */
  postWebhook(event: object): Promise<TestResponse>;
  drainStripeEvents(): Promise<void>;
  /** Starts a job worker on this instance; `crontab` schedules as the service does, `events` sees every job. */
  startWorker(options?: WorkerOptions): Promise<Runner>;
}

export interface WorkerOptions {
  crontab?: string;
  events?: WorkerEvents;
}

export interface TwoInstances extends TestApp {
  instances: [Instance, Instance];
  /** The round-robin proxy in front of both (what the fake Stripe delivers to). */
  proxyUrl: string;
}

export async function startTwoInstances(options: TestAppOptions = {}): Promise<TwoInstances> {
  const first = await startTestApp(options);
  const second = await startSecondInstance(first, options);
  const extraRunners: JobWorker[] = [];
  const instances: [Instance, Instance] = [asInstance(first, extraRunners), second.instance];
  const drainBoth = async () => {
    await Promise.all(instances.map((i) => i.drainStripeEvents()));
    // An event one instance recorded while the other was draining: once more, both.
    await Promise.all(instances.map((i) => i.drainStripeEvents()));
  };
  const proxy = await startRoundRobinProxy(instances.map((i) => i.url));
  first.stripe.setWebhook(`${proxy.url}/webhooks/stripe`, undefined, drainBoth);

  let turn = 0;
  const next = () => instances[turn++ % 2]!;
  return {
    ...first,
    instances,
    proxyUrl: proxy.url,
    request: (method, urlPath, opts) => next().request(method, urlPath, opts),
    postWebhook: (event, opts) => postSignedWebhook(next().url, event, opts),
    async deliverWebhook(event, opts) {
      const res = await postSignedWebhook(next().url, event, opts);
      await drainBoth();
      return res;
    },
    drainStripeEvents: drainBoth,
    async close() {
      await proxy.close();
      await Promise.all(extraRunners.map((r) => r.stop().catch(() => undefined)));
      await second.close();
      await first.close();
    },
  };
}

/** The first app as one of the two; workers started here with options are stopped by `runners`' owner. */
function asInstance(app: TestApp, runners: JobWorker[]): Instance {
  return {
    url: app.url,
    deps: app.deps,
    logs: app.logs,
    request: app.request,
    postWebhook: (event) => postSignedWebhook(app.url, event),
    drainStripeEvents: app.drainStripeEvents,
    async startWorker(opts = {}) {
      if (opts.crontab === undefined && !opts.events) return app.startWorker();
      const worker = await runTestWorker(app.database.pool, app.instance, opts);
      runners.push(worker);
      return worker.runner;
    },
  };
}

function runTestWorker(pool: import('pg').Pool, instance: ComposedInstance, opts: WorkerOptions = {}): Promise<JobWorker> {
  return instance.startWorker({
    pool,
    ...(opts.crontab === undefined ? {} : { crontab: opts.crontab }),
    concurrency: 2,
    pollInterval: 100,
    ...(opts.events ? { events: opts.events } : {}),
  });
}

/** A second instance on the first one's database, configuration, clock and fake Stripe, as another process would be. */
async function startSecondInstance(first: TestApp, options: TestAppOptions): Promise<{ instance: Instance; close(): Promise<void> }> {
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
  const handle = connectDatabase(first.databaseUrl, { max: 10 });
  const { config } = first;
  const composed = buildInstance({ config, db: handle.db, clock: first.clock, logger, stripeWebhookSecret: first.deps.stripeWebhookSecret });
  const { deps } = composed;
  const server = composed.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const runners: JobWorker[] = [];
  const startWorker = async (opts: WorkerOptions = {}) => {
    const worker = await runTestWorker(handle.pool, composed, opts);
    runners.push(worker);
    return worker.runner;
  };
  if (options.worker) await startWorker();
  // As in production, this instance applies webhook events whether or not it runs the other jobs.
  const eventsWorker: JobWorker = await composed.startWorker({
    pool: handle.pool,
    tasks: 'payments',
    concurrency: 2,
    pollInterval: 100,
    ...(options.liveness ? { liveness: options.liveness } : {}),
  });

  const instance: Instance = {
    url,
    deps,
    logs,
    request: (method, urlPath, opts) => requestTo(url, method, urlPath, opts),
    postWebhook: (event) => postSignedWebhook(url, event),
    drainStripeEvents: () => waitForStripeEvents(deps),
    startWorker,
  };
  return {
    instance,
    async close() {
      await Promise.all(runners.map((r) => r.stop().catch(() => undefined)));
      await eventsWorker.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handle.close();
    },
  };
}

/** What nginx's upstream does in front of two instances: each request to the next one. */
async function startRoundRobinProxy(targets: string[]): Promise<{ url: string; close(): Promise<void> }> {
  let turn = 0;
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', targets[turn++ % targets.length]);
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
