/**
 * The built-in Stripe stand-in for running without Stripe keys (SPEC 2
 * "Sandbox payments"), and the local Stripe-compatible server of the tests
 * (tests/support/fake-stripe.ts serves the same thing on its own port).
 *
 *   router      mounted at `basePath` (/sandbox): the checkout page, the dashboard,
 *               and the Stripe API under `${basePath}/stripe/v1/...`
 *   apiRouter   the Stripe API alone, for a server that is only that (`/v1/...`)
 *
 * State is in memory: it is gone when the process stops. The service's database
 * keeps everything that matters, and an unpaid sandbox session simply cannot be
 * paid after a restart.
 */
import { Router } from 'express';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { SandboxApi } from './api.routes.js';
import { sandboxPagesRouter, type OutboxEmailSummary } from './pages.routes.js';
import type { PaymentMethodChoice, SandboxEvent } from './sandbox-objects.js';
import type { Delivery, SandboxWebhook } from './sandbox-delivery.js';
import { SandboxState } from './sandbox-state.js';

export type { SandboxEvent } from './sandbox-objects.js';
export type { Delivery, SandboxWebhook } from './sandbox-delivery.js';

export interface StripeSandboxOptions {
  /** The public URL the pages are served under, e.g. `${PUBLIC_URL}/sandbox`: Checkout URLs start with it. */
  pagesUrl: string;
  /** The path the router is mounted at, for links and form actions on its pages (default /sandbox). */
  basePath?: string;
  webhook?: SandboxWebhook;
  clock?: Clock;
  logger?: Logger;
  bacsDelayMs?: number;
  deliveryAttempts?: number;
  retryDelaysMs?: number[];
  /** The newest emails of the outbox (no SMTP_URL), listed on the dashboard. */
  recentEmails?: () => Promise<OutboxEmailSummary[]>;
}

export interface StripeSandbox {
  router: Router;
  apiRouter: Router;
  state: SandboxState;
  api: SandboxApi;
  /** Where events go, signed with `secret` (set once the receiving server knows its port). */
  setWebhook(webhook: SandboxWebhook): void;
  /** The payer pays on the checkout page; resolves once the events were delivered. */
  pay(sessionId: string, method?: PaymentMethodChoice): Promise<{ events: SandboxEvent[]; deliveries: Delivery[] }>;
  settleBacs(sessionId: string, outcome: 'succeeded' | 'failed'): Promise<{ events: SandboxEvent[]; deliveries: Delivery[] }>;
  expire(sessionId: string): Promise<{ events: SandboxEvent[]; deliveries: Delivery[] }>;
  refund(sessionId: string, amount?: number): Promise<{ refundId: string; events: SandboxEvent[]; deliveries: Delivery[] }>;
  openDispute(sessionId: string, amount?: number): Promise<{ disputeId: string; events: SandboxEvent[]; deliveries: Delivery[] }>;
  closeDispute(disputeId: string, outcome: 'won' | 'lost'): Promise<{ events: SandboxEvent[]; deliveries: Delivery[] }>;
  /** Subscriptions (the dashboard's buttons): each delivers the events Stripe would send. */
  renewSubscription(subscriptionId: string): Promise<{ events: SandboxEvent[]; deliveries: Delivery[] }>;
  /** The next renewal of this subscription fails (the card is declined). */
  failNextPayment(subscriptionId: string): void;
  recoverSubscription(subscriptionId: string): Promise<{ events: SandboxEvent[]; deliveries: Delivery[] }>;
  cancelSubscription(subscriptionId: string): Promise<{ events: SandboxEvent[]; deliveries: Delivery[] }>;
  close(): Promise<void>;
}

export function createStripeSandbox(options: StripeSandboxOptions): StripeSandbox {
  const basePath = options.basePath ?? '/sandbox';
  const state = new SandboxState({
    pagesUrl: options.pagesUrl.replace(/\/+$/, ''),
    webhook: options.webhook,
    clock: options.clock,
    logger: options.logger,
    bacsDelayMs: options.bacsDelayMs,
    deliveryAttempts: options.deliveryAttempts,
    retryDelaysMs: options.retryDelaysMs,
  });
  const api = new SandboxApi(state);
  const apiRouter = api.router();
  const router = Router();
  router.use('/stripe', apiRouter);
  router.use(sandboxPagesRouter(state, { basePath, pagesUrl: options.pagesUrl, recentEmails: options.recentEmails }));

  const send = async <T extends { events: SandboxEvent[] }>(result: T) => ({ ...result, deliveries: await state.deliver(result.events) });

  return {
    router,
    apiRouter,
    state,
    api,
    setWebhook(webhook) {
      state.webhook = webhook;
    },
    pay: async (sessionId, method = 'card') => {
      const { events, deliveries } = await send(state.pay(sessionId, method));
      return { events, deliveries };
    },
    settleBacs: async (sessionId, outcome) => {
      const { events, deliveries } = await send(state.settleBacs(sessionId, outcome));
      return { events, deliveries };
    },
    expire: async (sessionId) => {
      const { events, deliveries } = await send(state.expireSession(sessionId));
      return { events, deliveries };
    },
    refund: async (sessionId, amount) => {
      const { refund, events, deliveries } = await send(state.moneyBack.createRefund({ charge: state.chargeOf(sessionId).id, amount }));
      return { refundId: refund.id, events, deliveries };
    },
    openDispute: async (sessionId, amount) => {
      const { dispute, events, deliveries } = await send(state.moneyBack.openDispute(sessionId, amount));
      return { disputeId: dispute.id, events, deliveries };
    },
    closeDispute: async (disputeId, outcome) => {
      const { events, deliveries } = await send(state.moneyBack.closeDispute(disputeId, outcome));
      return { events, deliveries };
    },
    renewSubscription: (id) => send(state.billing.renew(id)),
    failNextPayment: (id) => {
      state.billing.getSubscription(id);
      state.billing.failNext.add(id);
    },
    recoverSubscription: (id) => send(state.billing.recover(id)),
    cancelSubscription: (id) => send(state.billing.cancelNow(id)),
    close: () => state.close(),
  };
}
