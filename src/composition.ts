/**
 * The composition root: the one place that builds what an instance runs, for
 * service.ts, the test harness (tests/support) and the benchmarks alike, so the
 * tests run what production runs. buildInstance(input) gives:
 *
 * - the dependencies (AppDeps with the Stripe client and metrics: buildDeps),
 * - the registries, built once per instance and shared by its HTTP routes and its
 *   job worker: who acts on a confirmed payment (the webhook job and
 *   reconciliation's repair use the same handlers), what each Stripe event does,
 *   what the thank-you page says by purpose, which components add to a person's
 *   account, which email attachments the send job (and /sandbox/emails) can draw,
 * - the Express app (buildApp(deps, parts): app.ts never imports this module),
 * - the job worker with the task list (startWorker).
 *
 * No other module imports app.ts; service.ts serves the instance's app.
 */
import type { Express } from 'express';
import type { WorkerEvents } from 'graphile-worker';
import type pg from 'pg';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { AppDeps } from './deps.js';
import type { Clock } from './lib/clock.js';
import { startJobWorker, type JobWorker, type LivenessOptions } from './lib/job-worker.js';
import type { Logger } from './lib/logger.js';
import { createMetrics, jobMetricsEvents, type Metrics } from './lib/metrics.js';
import { createEventReplayer } from './payments/replay-stripe-events.js';
import type { StripeSandbox } from './payments/sandbox/sandbox.js';
import { createStripeClient } from './payments/stripe-client.js';
import { paymentTasks } from './payments/payments.tasks.js';
import { buildTaskList } from './tasks.js';
import { donationPaymentHandler } from './donations/donation-payments.js';
import type { AccountContributor } from './members/account.service.js';
import { EventAppliers } from './payments/event-appliers.js';
import type { PaymentHandlers } from './payments/payment-handlers.js';
import { registerPaymentAppliers } from './payments/payment-event-appliers.js';
import type { CheckoutReturns } from './payments/checkout-returns.js';
import { donationReturn } from './donations/donation-returns.js';
import { shareApplicationReturn } from './shares/share-returns.js';
import { createSharePaymentHandler } from './shares/share-payments.js';
import { shareCertificate } from './shares/member-certificates.js';
import { attachmentKinds, type AttachmentKinds } from './email/attachments.js';
import { sharesAccountContributor } from './shares/shares-account.js';
import { registerSupporterAppliers, supporterPaymentHandler } from './supporters/supporter-events.js';
import { supportersAccountContributor } from './supporters/supporters-account.js';

/**
 * Who acts on a confirmed payment, by checkout purpose. Built once per instance
 * (buildRegistries): the job applying Stripe events (first try and retries alike)
 * and reconciliation's repair share it.
 */
export function buildPaymentHandlers(deps: AppDeps): PaymentHandlers {
  const paymentHandlers: PaymentHandlers = {
    donation: donationPaymentHandler(deps),
    share_application: createSharePaymentHandler(deps),
    supporter: supporterPaymentHandler(deps),
  };
  return paymentHandlers;
}

/** Who describes a paid (or paying) record on the page Stripe Checkout returns to, by purpose. */
function buildCheckoutReturns(deps: AppDeps): CheckoutReturns {
  return { donation: donationReturn(deps), share_application: shareApplicationReturn(deps) };
}

/**
 * What each Stripe event type does (see payments/event-appliers.ts): every
 * component that acts on Stripe events registers its appliers here. The job that
 * applies recorded events (payments/apply-stripe-events.ts) uses this one registry.
 */
export function buildEventAppliers(): EventAppliers {
  const registry = new EventAppliers();
  registerPaymentAppliers(registry);
  registerSupporterAppliers(registry);
  return registry;
}

/**
 * What other components add to a person's account: their parts of GET /api/me
 * (member, shares, supporter), their records in the data export, their sections
 * of the /account page. See AccountContributor in members/account.service.ts.
 */
function buildAccountContributors(deps: AppDeps): AccountContributor[] {
  const accountContributors: AccountContributor[] = [sharesAccountContributor(deps), supportersAccountContributor(deps)];
  return accountContributors;
}

/** What the email send job can draw, by kind (see email/attachments.ts): the share certificate. */
function buildAttachmentKinds(): AttachmentKinds {
  return attachmentKinds([shareCertificate]);
}

export interface DepsInput {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
  stripeWebhookSecret: string;
  /** Where the Stripe client talks when not config.stripe.apiBase (the built-in sandbox's API). */
  stripeApiBase?: string;
  /** This instance's instruments; a fresh set when not given. */
  metrics?: Metrics;
  sandbox?: StripeSandbox;
}

/** AppDeps as every instance has them: the service, each test app, each benchmark app. */
function buildDeps(input: DepsInput): AppDeps {
  const { config } = input;
  return {
    config,
    db: input.db,
    clock: input.clock,
    logger: input.logger,
    // Without Stripe keys (sandbox mode) the client still needs a key to exist.
    stripe: createStripeClient({ secretKey: config.stripe.secretKey ?? 'sk_test_sandbox', apiBase: input.stripeApiBase ?? config.stripe.apiBase }),
    stripeWebhookSecret: input.stripeWebhookSecret,
    metrics: input.metrics ?? createMetrics(),
    ...(input.sandbox ? { sandbox: input.sandbox } : {}),
  };
}

export interface InstanceWorkerOptions {
  pool: pg.Pool;
  concurrency: number;
  pollInterval: number;
  /** 'all' (the service), or only 'payments' (applying webhook events: what every test app runs at least). */
  tasks?: 'all' | 'payments';
  crontab?: string;
  liveness?: LivenessOptions;
  /** Replaces the metrics' listener (a test watching every job). */
  events?: WorkerEvents;
}

/** What one instance's components are wired with, built once (see the header). */
export interface Registries {
  appliers: EventAppliers;
  handlers: PaymentHandlers;
  checkoutReturns: CheckoutReturns;
  accountContributors: readonly AccountContributor[];
  attachmentKinds: AttachmentKinds;
}

export function buildRegistries(deps: AppDeps): Registries {
  return {
    appliers: buildEventAppliers(),
    handlers: buildPaymentHandlers(deps),
    checkoutReturns: buildCheckoutReturns(deps),
    accountContributors: buildAccountContributors(deps),
    attachmentKinds: buildAttachmentKinds(),
  };
}

/** One instance of the service: its dependencies, its registries, its HTTP app and its job worker. */
export interface Instance {
  deps: AppDeps;
  registries: Registries;
  /** The Express app (a request listener: `server.on('request', app)` or `app.listen(...)`). */
  app: Express;
  /** Starts this instance's job worker, with the same registries as the app. */
  startWorker(options: InstanceWorkerOptions): Promise<JobWorker>;
}

export function buildInstance(input: DepsInput): Instance {
  const deps = buildDeps(input);
  const registries = buildRegistries(deps);
  const app = buildApp(deps, {
    accountContributors: registries.accountContributors,
    checkoutReturns: registries.checkoutReturns,
    // Reconciliation's repair replays missed events through the webhook's own inbox, applied by the worker's appliers and handlers.
    eventReplayer: createEventReplayer(deps, { appliers: registries.appliers, handlers: registries.handlers }),
    attachmentKinds: registries.attachmentKinds,
  });
  return { deps, registries, app, startWorker: (options) => startInstanceWorker(deps, registries, options) };
}

/** The job worker of one instance, with the task list built from its registries. */
function startInstanceWorker(deps: AppDeps, registries: Registries, options: InstanceWorkerOptions): Promise<JobWorker> {
  return startJobWorker({
    pool: options.pool,
    db: deps.db,
    taskList: options.tasks === 'payments' ? paymentTasks(deps, registries) : buildTaskList(deps, registries),
    ...(options.crontab === undefined ? {} : { crontab: options.crontab }),
    concurrency: options.concurrency,
    pollInterval: options.pollInterval,
    events: options.events ?? jobMetricsEvents(deps.metrics),
    logger: deps.logger.child({ component: 'worker' }),
    ...(options.liveness ? { liveness: options.liveness } : {}),
  });
}
