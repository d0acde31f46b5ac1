/**
 * The service's Prometheus instruments (prom-client), one registry per app
 * instance: no global registry, so tests can build many apps in one process,
 * and each instance's counters are its own (Prometheus scrapes every instance
 * and sums). Components count through `deps.metrics`; GET /metrics
 * (observability/metrics.routes.ts) serves them with the database-backed gauges.
 */
import { EventEmitter } from 'node:events';
import type { RequestHandler } from 'express';
import type { WorkerEvents } from 'graphile-worker';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Requests by method, route pattern (never the raw URL: bounded labels) and status. */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Webhook deliveries by event type and what the endpoint did: recorded, duplicate, rejected. */
  stripeDeliveries: Counter<'type' | 'outcome'>;
  /** Stripe events applied by this instance, by type and outcome: applied, ignored, failed. */
  stripeEvents: Counter<'type' | 'outcome'>;
  /** Job attempts that threw, by task; `final` when no attempt is left. */
  jobFailures: Counter<'task' | 'final'>;
  /** Emails handed to the transport, by template and outcome: sent, failed. */
  emails: Counter<'template' | 'outcome'>;
}

export interface MetricsOptions {
  /** Node's own figures (heap, event loop lag, GC): for the service's process, not for test apps. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'reader_coop_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'reader_coop_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'reader_coop_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    stripeDeliveries: new Counter({
      name: 'reader_coop_stripe_webhook_deliveries_total',
      help: 'Stripe webhook deliveries received by this instance, by event type and outcome (recorded, duplicate, rejected)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    stripeEvents: new Counter({
      name: 'reader_coop_stripe_events_processed_total',
      help: 'Stripe events processed by this instance, by event type and outcome (applied, ignored, failed)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    jobFailures: new Counter({
      name: 'reader_coop_job_failures_total',
      help: 'Background job attempts that failed on this instance, by task; final="true" when no attempt is left',
      labelNames: ['task', 'final'],
      registers,
    }),
    emails: new Counter({
      name: 'reader_coop_emails_total',
      help: 'Emails handed to the mail transport by this instance, by template and outcome (sent, failed)',
      labelNames: ['template', 'outcome'],
      registers,
    }),
  };
}

/**
 * Times every request and counts it by its route pattern (`/api/share-applications/:id`),
 * once the answer is sent. A request no route matched is "unmatched", so a scan of
 * random URLs cannot make labels without end.
 */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      const labels = {
        method: req.method,
        route: typeof route === 'string' ? `${req.baseUrl}${route}` : 'unmatched',
        status: String(res.statusCode),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

/** graphile-worker's events, counting failed job attempts into `metrics` (pass as run({ events })). */
export function jobMetricsEvents(metrics: Metrics | undefined): WorkerEvents {
  const events: WorkerEvents = new EventEmitter();
  if (!metrics) return events;
  events.on('job:error', ({ job }) => {
    const final = job.attempts >= job.max_attempts;
    metrics.jobFailures.inc({ task: job.task_identifier, final: String(final) });
  });
  return events;
}
