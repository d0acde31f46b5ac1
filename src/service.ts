/**
 * Starts and stops the whole service: database (embedded or DATABASE_URL),
 * migrations, Stripe (real or sandbox), the HTTP server and the job worker.
 * server.ts calls this for `npm start`; the benchmarks call it too.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Config } from './config.js';
import { buildInstance } from './composition.js';
import { recentOutboxEmails } from './email/outbox-pages.routes.js';
import { connectDatabase, type DatabaseHandle } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase, type EmbeddedOptions } from './db/embedded.js';
import { migrateToLatest } from './db/migrator.js';
import { systemClock, type Clock } from './lib/clock.js';
import type { LivenessOptions } from './lib/job-worker.js';
import type { Logger } from './lib/logger.js';
import { createMetrics } from './lib/metrics.js';
import { createStripeSandbox, type StripeSandbox } from './payments/sandbox/sandbox.js';
import { waitForStripeEvents } from './payments/apply-stripe-events.js';
import { withAuthSecret } from './members/auth-keys.js';
import { crontab } from './tasks.js';

/** Jobs run side by side by one instance (webhook events, emails, the schedule). */
export const JOB_CONCURRENCY = 4;

export interface RunningService {
  url: string;
  port: number;
  database: DatabaseHandle;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  clock?: Clock;
  /** How often the job worker announces itself, and after what silence another instance's jobs are taken over. */
  liveness?: LivenessOptions;
  /** Where the embedded PostgreSQL finds its binaries and, as root, its own folder (tests). */
  embedded?: Pick<EmbeddedOptions, 'binariesDir' | 'rootHome'>;
  /** The embedded database, already starting (server.ts starts it while the code loads); stopped with the service. */
  embeddedDatabase?: Promise<EmbeddedDatabase>;
}

export async function startService(givenConfig: Config, logger: Logger, options: ServiceOptions = {}): Promise<RunningService> {
  const clock = options.clock ?? systemClock;
  await fs.mkdir(givenConfig.dataDir, { recursive: true });
  // Without AUTH_SECRET (development), one is generated once and kept under DATA_DIR.
  const config = await withAuthSecret(givenConfig, logger);

  let embedded: EmbeddedDatabase | undefined;
  if (!config.databaseUrl) {
    embedded = await (options.embeddedDatabase ??
      startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort, logger, ...options.embedded }));
    logger.info({ port: config.embeddedPostgresPort, dir: embedded.clusterDir }, 'embedded PostgreSQL is running');
  }
  const database = connectDatabase(config.databaseUrl ?? embedded!.url, { max: 20 });
  await migrateToLatest(database.db, database.pool, logger);

  const stripeWebhookSecret = config.stripe.webhookSecret ?? (await readOrCreateSandboxSecret(config.dataDir));
  if (config.stripe.sandbox) logger.warn('SANDBOX payments: no Stripe keys are set, payments are simulated locally');

  // Listen first: in sandbox mode the Stripe client and the webhook deliveries need the port.
  const server = http.createServer();
  server.listen(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;

  // Sandbox mode (no Stripe keys; never in production, config.ts refuses it): the built-in
  // Stripe stand-in is served by this same app under /sandbox and signs events with the sandbox secret.
  let sandbox: StripeSandbox | undefined;
  let stripeApiBase = config.stripe.apiBase;
  if (config.stripe.sandbox) {
    const local = `http://127.0.0.1:${port}`;
    sandbox = createStripeSandbox({
      pagesUrl: `${config.publicUrl}/sandbox`,
      ...(config.mail.smtpUrl ? {} : { recentEmails: () => recentOutboxEmails({ db: database.db }, 10) }),
      // The checkout page waits until the payment is applied, so the success page shows it confirmed.
      webhook: { url: `${local}/webhooks/stripe`, secret: stripeWebhookSecret, settled: () => waitForStripeEvents({ db: database.db }) },
      clock,
      logger: logger.child({ component: 'sandbox' }),
    });
    stripeApiBase = `${local}/sandbox/stripe`;
  }
  // Deps, registries, app and worker, built by the composition root as the tests build them.
  const instance = buildInstance({
    config,
    db: database.db,
    clock,
    logger,
    stripeWebhookSecret,
    stripeApiBase,
    metrics: createMetrics({ processMetrics: true }),
    ...(sandbox ? { sandbox } : {}),
  });
  // Attached in the same tick as 'listening' resolved: no request can have arrived before.
  server.on('request', instance.app);

  // Applies webhook events (and what was recorded but not applied before a restart), sends
  // email, runs the schedule. New jobs wake it at once (LISTEN/NOTIFY); the poll is a fallback.
  const worker = await instance.startWorker({
    pool: database.pool,
    crontab,
    concurrency: JOB_CONCURRENCY,
    pollInterval: 1000,
    ...(options.liveness ? { liveness: options.liveness } : {}),
  });

  logger.info({ url: config.publicUrl, port }, 'reader-coop is listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: finishing in-flight requests');
      // close() stops new connections and resolves once in-flight requests have finished;
      // idle keep-alive connections are closed so it does not wait on them.
      // Pending sandbox deliveries finish first (they call this very server).
      await sandbox?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await worker.stop();
      await database.close();
      await embedded?.stop();
      logger.info('stopped');
    })());

  return { url: `http://127.0.0.1:${port}`, port, database, stop };
}

/** Without Stripe keys the sandbox signs its webhook events with a secret kept under DATA_DIR. */
async function readOrCreateSandboxSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'sandbox-webhook-secret');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const secret = `whsec_sandbox_${randomBytes(24).toString('hex')}`;
    await fs.writeFile(file, secret + '\n', { mode: 0o600 });
    return secret;
  }
}
