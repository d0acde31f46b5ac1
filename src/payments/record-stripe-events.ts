/**
 * Recording verified webhook events: each with the job that applies it, in one
 * statement (webhooks.repository.ts recordEvents). Deliveries read in the same turn
 * of the event loop share the statement and its job (a batch job), so a burst costs
 * one commit per handful of events; none is answered before its commit.
 */
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import { recordEvents, type NewStripeEvent } from './webhooks.repository.js';

export type RecordOutcome = 'recorded' | 'duplicate';

export interface EventRecorder {
  /** Stores the event with its job; resolves once committed. 'duplicate' when its id was stored before. */
  record(event: Stripe.Event, rawBody: Buffer): Promise<RecordOutcome>;
}

interface Waiting {
  row: NewStripeEvent;
  resolve: (outcome: RecordOutcome) => void;
  reject: (err: unknown) => void;
}

export function createEventRecorder(deps: Pick<AppDeps, 'db' | 'clock'>, options: { batchSize?: number } = {}): EventRecorder {
  const batchSize = options.batchSize ?? 100;
  let waiting: Waiting[] = [];
  let flushScheduled = false;

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
  }

  return {
    record(event, rawBody) {
      const row: NewStripeEvent = {
        id: event.id,
        type: event.type,
        created: new Date(event.created * 1000),
        livemode: event.livemode,
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
    },
  };
}
