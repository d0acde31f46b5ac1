/**
 * The webhook inbox of one app instance: records verified events (batched with
 * the deliveries arriving at the same moment: one INSERT, one commit, before any
 * of them is answered) and applies what is queued, promptly, in a processor.
 *
 * Recording wakes this instance's processor at once; every instance also looks at
 * the queue every `pollMs`, so an event recorded by an instance that stopped
 * before applying it is still applied. Claims use FOR UPDATE SKIP LOCKED, so any
 * number of processors (lanes, instances) share the queue without applying an
 * event twice, and stripe_event_results (written in the event's transaction, keyed
 * by the event id) makes that exactly once in any case.
 */
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import type { PaymentHandlers } from './payment-handlers.js';
import { applyQueuedEvents } from './webhooks.service.js';
import { hasQueuedEvents, recordEvents, type NewStripeEvent } from './webhooks.repository.js';

export interface StripeInbox {
  /** Stores the event with its queue row; resolves once that is committed. 'duplicate' when its id was stored before. */
  record(event: Stripe.Event, rawBody: Buffer): Promise<'recorded' | 'duplicate'>;
  /** Starts looking at the queue every `pollMs` (what other instances, or retries after a crash, left there). */
  start(): void;
  /** Resolves when nothing this processor can claim is left in the queue (tests, the sandbox). */
  drain(): Promise<void>;
  /** Stops polling and waits for the events being applied. */
  stop(): Promise<void>;
}

export interface StripeInboxOptions {
  /** Transactions applying events side by side (lanes). */
  concurrency?: number;
  /** Lanes while deliveries are arriving (one within the last `busyMs`). */
  busyConcurrency?: number;
  busyMs?: number;
  /** The most events applied in one transaction (one failing sends them all one by one). */
  applyBatch?: number;
  pollMs?: number;
  /** The most events stored by one statement. */
  batchSize?: number;
}

interface Waiting {
  row: NewStripeEvent;
  resolve: (outcome: 'recorded' | 'duplicate') => void;
  reject: (err: unknown) => void;
}

export function createStripeInbox(deps: AppDeps, handlers: PaymentHandlers, options: StripeInboxOptions = {}): StripeInbox {
  const concurrency = options.concurrency ?? 3;
  const busyConcurrency = Math.min(options.busyConcurrency ?? 1, concurrency);
  const busyMs = options.busyMs ?? 100;
  const pollMs = options.pollMs ?? 1000;
  const batchSize = options.batchSize ?? 100;
  const applyBatch = options.applyBatch ?? 25;
  const log = deps.logger;

  // ---- recording ------------------------------------------------------------

  let waiting: Waiting[] = [];
  let flushScheduled = false;
  let lastRecordedAt = -Infinity;

  function record(event: Stripe.Event, rawBody: Buffer): Promise<'recorded' | 'duplicate'> {
    const row: NewStripeEvent = {
      id: event.id,
      type: event.type,
      created: new Date(event.created * 1000),
      livemode: event.livemode === true,
      apiVersion: event.api_version ?? null,
      payload: rawBody.toString('utf8'),
      receivedAt: deps.clock.now(),
    };
    return new Promise((resolve, reject) => {
      waiting.push({ row, resolve, reject });
      if (!flushScheduled) {
        flushScheduled = true;
        // After the requests already read in this turn of the event loop: they share the statement.
        setImmediate(flush);
      }
    });
  }

  function flush(): void {
    flushScheduled = false;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, batchSize);
      waiting = waiting.slice(batchSize);
      void store(batch);
    }
  }

  async function store(batch: Waiting[]): Promise<void> {
    // The same event twice in one batch (two deliveries at once): stored once, the other is the duplicate.
    const first = new Map<string, Waiting>();
    for (const w of batch) if (!first.has(w.row.id)) first.set(w.row.id, w);
    let stored: Set<string>;
    try {
      stored = new Set(await recordEvents(deps.db, [...first.values()].map((w) => w.row)));
    } catch (err) {
      if (first.size === 1) {
        for (const w of batch) w.reject(err);
        return;
      }
      // One bad event must not fail the others delivered with it: each on its own.
      await Promise.all([...first.values()].map((w) => store(batch.filter((b) => b.row.id === w.row.id))));
      return;
    }
    for (const w of batch) w.resolve(first.get(w.row.id) === w && stored.has(w.row.id) ? 'recorded' : 'duplicate');
    if (stored.size > 0) {
      lastRecordedAt = performance.now();
      wake(stored.size);
    }
  }

  // ---- applying -------------------------------------------------------------

  let stopped = false;
  let wakes = 0;
  let running = 0;
  const lanes = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;

  /**
   * While deliveries keep arriving, one lane: answering Stripe (recording) comes
   * first, and the backlog is applied in the gaps and right after the burst.
   */
  function lanesAllowed(): number {
    return performance.now() - lastRecordedAt < busyMs ? busyConcurrency : concurrency;
  }

  /** Makes sure up to `wanted` lanes (as many as allowed) are working through the queue. */
  function wake(wanted = 1): void {
    if (stopped) return;
    wakes++;
    addLanes(Math.min(wanted, lanesAllowed()));
  }

  function addLanes(upTo: number): void {
    while (running < upTo) {
      running++;
      const lane: Promise<void> = runLane().finally(() => lanes.delete(lane));
      lanes.add(lane);
    }
  }

  async function runLane(): Promise<void> {
    // Started inside addLanes(): let it finish first, so lanes.add has happened before this one can end.
    await Promise.resolve();
    try {
      while (!stopped) {
        const seen = wakes;
        const { taken, more } = await applyQueuedEvents(deps, handlers, applyBatch);
        if (!more) {
          // Nothing more was free when we looked; a wake since then may have queued more.
          if (wakes === seen) return;
          continue;
        }
        const allowed = lanesAllowed();
        if (running > allowed) return;
        // A full batch: there is a backlog, so use every lane allowed.
        if (taken === applyBatch) addLanes(allowed);
      }
    } catch (err) {
      // The database is away: the events stay queued and the next wake or poll tries again.
      log.error({ err }, 'stripe event processor stopped on an error; the next poll resumes it');
    } finally {
      running--;
    }
  }

  async function idle(): Promise<void> {
    while (lanes.size > 0) await Promise.all([...lanes]);
  }

  return {
    record,

    start() {
      if (timer || stopped) return;
      timer = setInterval(() => {
        if (running > 0) return;
        hasQueuedEvents(deps.db).then(
          (queued) => queued && wake(concurrency),
          (err: unknown) => log.warn({ err }, 'cannot look at the stripe event queue'),
        );
      }, pollMs);
      timer.unref();
      wake(concurrency);
    },

    async drain() {
      const giveUpAt = Date.now() + 30_000;
      for (;;) {
        wake(concurrency);
        await idle();
        if (stopped || !(await hasQueuedEvents(deps.db))) return;
        // Still queued after a full pass: held by another processor, or the database failed; look again shortly.
        if (Date.now() > giveUpAt) throw new Error('stripe events are still queued after 30 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },

    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await idle();
    },
  };
}
