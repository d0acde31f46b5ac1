/**
 * The composition root: one place builds what an instance runs, for service.ts,
 * the test harness (tests/support) and the benchmarks alike, so the tests run
 * what production runs:
 *
 * - the dependencies (buildDeps: AppDeps with the Stripe client and metrics),
 * - the registries: which component acts on a confirmed payment and on each Stripe
 *   event, and which components add to a person's account (app.ts asks here),
 * - the job worker with the task list (startInstanceWorker).
 *
 * It never imports app.ts: buildApp(deps) is called by whoever serves HTTP.
 */
import type { WorkerEvents } from 'graphile-worker';
import type pg from 'pg';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { AppDeps } from './deps.js';
import type { Clock } from './lib/clock.js';
import { startJobWorker, type JobWorker, type LivenessOptions } from './lib/job-worker.js';
import type { Logger } from './lib/logger.js';
import { createMetrics, jobMetricsEvents, type Metrics } from './lib/metrics.js';
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
 * Who acts on a confirmed payment, by checkout purpose. The job applying
 * Stripe events (first try and retries alike) uses this one registry.
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
export function buildCheckoutReturns(deps: AppDeps): CheckoutReturns {
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
export function buildAccountContributors(deps: AppDeps): AccountContributor[] {
  const accountContributors: AccountContributor[] = [sharesAccountContributor(deps), supportersAccountContributor(deps)];
  return accountContributors;
}

/** What the email send job can draw, by kind (see email/attachments.ts): the share certificate. */
export function buildAttachmentKinds(): AttachmentKinds {
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
export function buildDeps(input: DepsInput): AppDeps {
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

/** The job worker of one instance, with the task list built from this root's registries. */
export function startInstanceWorker(deps: AppDeps, options: InstanceWorkerOptions): Promise<JobWorker> {
  const registries = { appliers: buildEventAppliers(), handlers: buildPaymentHandlers(deps), attachmentKinds: buildAttachmentKinds() };
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
