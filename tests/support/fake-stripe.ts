/**
 * The local Stripe-compatible server of the tests: the service's own sandbox
 * (src/payments/sandbox) served standalone on port 0. The API answers at
 * `url` (/v1/...; point STRIPE_API_BASE at it), the human pages under
 * `${url}/sandbox`. In front of the API, the test hooks (stripe-test-hooks.ts)
 * record every request for assertions and make calls fail on demand; helpers
 * pay, expire, refund and dispute sessions, delivering the signed events to the
 * app's webhook.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Clock } from '../../src/lib/clock.js';
import { createStripeSandbox, type StripeSandbox } from '../../src/payments/sandbox/sandbox.js';
import { stripeTestHooks, type FailureOptions, type RecordedRequest } from './stripe-test-hooks.js';

export type { RecordedRequest };

export interface FakeStripeOptions {
  /** Where events are delivered (can be set later with setWebhook). */
  webhookUrl?: string;
  webhookSecret: string;
  /** Stamps `created` on objects and events (the app's clock, so bookings are dated in the test's time). */
  clock?: Clock;
}

export interface FakeStripe {
  /** The API base: STRIPE_API_BASE. */
  url: string;
  sandbox: StripeSandbox;
  /** Every API request so far (method, path, decoded params, idempotency key, status). */
  requests: RecordedRequest[];
  /** The recorded requests to one path (and method). */
  requestsTo(path: string, method?: string): RecordedRequest[];
  /** The next `count` calls to `path` answer `status` (500) with Stripe-Should-Retry: false. */
  failNext(path: string | RegExp, count?: number, options?: FailureOptions): void;
  /** `settled`: awaited after each delivery answered 2xx (the app applying what it recorded). */
  setWebhook(url: string, secret?: string, settled?: () => Promise<void>): void;
  /** The Checkout Session id at the end of a checkout URL the app handed out. */
  sessionIdOf(checkoutUrl: string): string;
  pay: StripeSandbox['pay'];
  settleBacs: StripeSandbox['settleBacs'];
  expire: StripeSandbox['expire'];
  refund: StripeSandbox['refund'];
  openDispute: StripeSandbox['openDispute'];
  closeDispute: StripeSandbox['closeDispute'];
  /** Resolves when every event sent so far (also those sent after API calls) has been delivered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeStripe(options: FakeStripeOptions): Promise<FakeStripe> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let secret = options.webhookSecret;
  const sandbox = createStripeSandbox({
    pagesUrl: `${url}/sandbox`,
    basePath: '/sandbox',
    ...(options.webhookUrl ? { webhook: { url: options.webhookUrl, secret } } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    bacsDelayMs: 60_000,
    deliveryAttempts: 3,
    retryDelaysMs: [20, 50],
  });
  const hooks = stripeTestHooks();
  const app = express();
  app.use('/sandbox', sandbox.router);
  app.use(hooks.router, sandbox.apiRouter);
  server.on('request', app);

  return {
    url,
    sandbox,
    requests: hooks.requests,
    requestsTo: (path, method) => hooks.requests.filter((r) => r.path === path && (!method || r.method === method.toUpperCase())),
    failNext: (path, count, opts) => hooks.failNext(path, count, opts),
    setWebhook(webhookUrl, newSecret, settled) {
      secret = newSecret ?? secret;
      sandbox.setWebhook({ url: webhookUrl, secret, ...(settled ? { settled } : {}) });
    },
    sessionIdOf(checkoutUrl) {
      const id = /\/checkout\/(cs_[A-Za-z0-9_]+)$/.exec(checkoutUrl)?.[1];
      if (!id) throw new Error(`not a sandbox checkout URL: ${checkoutUrl}`);
      return id;
    },
    pay: sandbox.pay,
    settleBacs: sandbox.settleBacs,
    expire: sandbox.expire,
    refund: sandbox.refund,
    openDispute: sandbox.openDispute,
    closeDispute: sandbox.closeDispute,
    idle: () => sandbox.state.idle(),
    async close() {
      await sandbox.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
