/**
 * AppDeps: everything a component needs from the process (config, database, clock,
 * logger, Stripe). Its own module so that components depend on this type, never on
 * app.ts, and the app, the worker and the test harness all take the same thing.
 */
import type Stripe from 'stripe';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import type { Metrics } from './lib/metrics.js';
import type { StripeSandbox } from './payments/sandbox/sandbox.js';

export interface AppDeps {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
  /** Talks to Stripe, or to the sandbox / a test server standing in for it (STRIPE_API_BASE). */
  stripe: Stripe;
  /** The secret webhook bodies are signed with (the sandbox's own when running without Stripe keys). */
  stripeWebhookSecret: string;
  /** The built-in Stripe stand-in, mounted under /sandbox; only in sandbox mode (no Stripe keys). */
  sandbox?: StripeSandbox;
  /**
   * This instance's Prometheus instruments (lib/metrics.ts), shared by the app and its
   * job worker; served by GET /metrics. The composition root always gives one (buildApp makes one otherwise).
   */
  metrics?: Metrics;
}
