/**
 * The sandbox's webhook sender: signs each event as Stripe does and POSTs it to the
 * webhook URL, one event after another in the order given, retrying a delivery that
 * failed a few times, and keeps the latest deliveries for the dashboard (a sandbox
 * that runs for weeks under `npm start` must not keep every one). It also runs the
 * sandbox's delayed steps (a Bacs payment settling a few seconds after it was
 * made); close() stops them all.
 */
import Stripe from 'stripe';
import type { Logger } from '../../lib/logger.js';
import type { SandboxEvent } from './sandbox-objects.js';

export interface Delivery {
  eventId: string;
  type: string;
  url: string;
  attempts: number;
  status: number | null;
  error?: string;
}

/** Where events go, signed with `secret`. */
export interface SandboxWebhook {
  url: string;
  secret: string;
  /**
   * Resolves once the receiver has applied what it recorded. Awaited after each
   * delivery it answered 2xx, so the sandbox's own flow (and a test) finds the
   * payment confirmed; real Stripe never waits for this.
   */
  settled?: () => Promise<void>;
}

export interface WebhookSenderOptions {
  webhook?: SandboxWebhook | undefined;
  logger?: Logger | undefined;
  /** Delivery attempts per event on non-2xx or network errors (default 4). */
  deliveryAttempts?: number | undefined;
  /** Milliseconds before each retry of a delivery (default 250, 1000, 3000). */
  retryDelaysMs?: number[] | undefined;
  /** How many of the latest deliveries are kept for the dashboard (default 100; it shows 20). */
  keptDeliveries?: number | undefined;
}

export class WebhookSender {
  /** The latest deliveries, oldest first: at most `keptDeliveries`. */
  readonly deliveries: Delivery[] = [];
  webhook: SandboxWebhook | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private outbox: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: WebhookSenderOptions) {
    this.webhook = options.webhook;
  }

  /** Sends the events in order to the webhook URL; resolves when each was answered (or given up on). */
  deliver(events: SandboxEvent[]): Promise<Delivery[]> {
    const run = this.outbox.then(async () => {
      const done: Delivery[] = [];
      for (const event of events) done.push(await this.deliverOne(event));
      return done;
    });
    this.outbox = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Resolves once every delivery started so far has finished. */
  idle(): Promise<void> {
    return this.outbox;
  }

  private async deliverOne(event: SandboxEvent): Promise<Delivery> {
    const target = this.webhook;
    const delivery: Delivery = { eventId: event.id, type: event.type, url: target?.url ?? '', attempts: 0, status: null };
    this.deliveries.push(delivery);
    const kept = this.options.keptDeliveries ?? 100;
    if (this.deliveries.length > kept) this.deliveries.splice(0, this.deliveries.length - kept);
    if (!target) {
      delivery.error = 'not sent: no webhook URL is set';
      return delivery;
    }
    const attempts = this.options.deliveryAttempts ?? 4;
    const delays = this.options.retryDelaysMs ?? [250, 1000, 3000];
    const payload = JSON.stringify(event);
    for (let attempt = 1; attempt <= attempts && !this.closed; attempt++) {
      delivery.attempts = attempt;
      try {
        const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: target.secret });
        const res = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks) reader-coop-sandbox' },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        delivery.status = res.status;
        delete delivery.error;
        if (res.ok) {
          await target.settled?.().catch((err: unknown) => this.options.logger?.warn({ err, eventId: event.id }, 'sandbox: the receiver did not settle'));
          return delivery;
        }
      } catch (err) {
        delivery.error = err instanceof Error ? err.message : String(err);
      }
      if (attempt < attempts) await this.sleep(delays[Math.min(attempt - 1, delays.length - 1)] ?? 1000);
    }
    this.options.logger?.warn({ eventId: event.id, type: event.type, status: delivery.status, error: delivery.error }, 'sandbox: webhook delivery gave up');
    return delivery;
  }

  /** Runs `fn` after `ms` unless the sandbox is closed first (the Bacs settlement on the page). */
  later(ms: number, fn: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn().catch((err: unknown) => this.options.logger?.warn({ err }, 'sandbox: scheduled step failed'));
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Stops retries and delayed steps; resolves once the delivery under way has finished. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.outbox;
  }
}
