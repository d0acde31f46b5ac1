/**
 * GET /metrics: the instance's figures in Prometheus text format, for the
 * operators' scraper, behind `Authorization: Bearer $METRICS_TOKEN` (SPEC 2:
 * unset, the route answers 404 as if it did not exist).
 *
 * Counters (requests, webhook deliveries, events processed, job failures,
 * emails) are this instance's own; Prometheus sums them over instances. The
 * gauges read the database at scrape time (the job queue, the open campaigns'
 * totals), so every instance reports the same cluster-wide figures.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { Gauge } from 'prom-client';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { openCampaignFigures, type OpenCampaignFigures } from '../fighting-fund/open-campaigns.js';
import { AppError } from '../lib/errors.js';
import { jobQueueFigures, type JobQueueFigures } from '../lib/jobs.js';
import type { Metrics } from '../lib/metrics.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';

export function metricsRouter(deps: AppDeps, metrics: Metrics): Router {
  const router = Router();
  registerDatabaseGauges(deps, metrics);
  router.get('/metrics', async (req, res) => {
    checkMetricsToken(deps.config.metricsToken, req.get('authorization'));
    const body = await metrics.registry.metrics();
    res.type(metrics.registry.contentType).send(body);
  });
  return router;
}

function checkMetricsToken(token: string | undefined, authorization: string | undefined): void {
  if (!token) throw new AppError({ code: 'not_found', status: 404, message: 'Nothing is at GET /metrics.' });
  const given = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!given) {
    throw new AppError({ code: 'unauthenticated', status: 401, message: 'Send the metrics token as Authorization: Bearer <METRICS_TOKEN>.' });
  }
  // Compared as digests: equal length, constant time, whatever was sent.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (!timingSafeEqual(digest(given), digest(token))) {
    throw new AppError({ code: 'forbidden', status: 403, message: 'That is not the metrics token.' });
  }
}

/**
 * Gauges whose values are read from the database when Prometheus scrapes (once per
 * registry). The registry collects its metrics side by side, so the gauges of one
 * group share one query in flight, and each sets its own values from it.
 */
function registerDatabaseGauges(deps: AppDeps, metrics: Metrics): void {
  const registers = [metrics.registry];
  if (metrics.registry.getSingleMetric('reader_coop_job_queue_depth')) return;

  const jobs = shared(() => jobQueueFigures(deps.db));
  const jobGauge = (name: string, help: string, key: keyof Omit<JobQueueFigures, 'task'>) =>
    new Gauge({
      name,
      help,
      labelNames: ['task'],
      registers,
      async collect() {
        const rows = await jobs();
        this.reset();
        for (const row of rows) this.set({ task: row.task }, row[key]);
      },
    });
  jobGauge('reader_coop_job_queue_depth', 'Background jobs due now and waiting for a worker, by task', 'ready');
  jobGauge('reader_coop_jobs_locked', 'Background jobs taken by a worker, by task', 'locked');
  jobGauge('reader_coop_jobs_scheduled', 'Background jobs waiting for a later run (scheduled or backing off), by task', 'scheduled');
  jobGauge('reader_coop_jobs_retrying', 'Background jobs that failed and will be tried again, by task', 'retrying');
  jobGauge('reader_coop_jobs_failed', 'Background jobs out of attempts (need someone to act), by task', 'failed');

  const campaigns = shared(() => openCampaignFigures(deps));
  const fundGauge = (name: string, help: string, key: keyof Omit<OpenCampaignFigures, 'slug'>) =>
    new Gauge({
      name,
      help,
      labelNames: ['campaign'],
      registers,
      async collect() {
        const rows = await campaigns();
        this.reset();
        for (const row of rows) this.set({ campaign: row.slug }, row[key]);
      },
    });
  fundGauge('reader_coop_fund_raised_pence', 'Money raised by each open campaign, in minor units', 'raised');
  fundGauge('reader_coop_fund_target_pence', 'Target of each open campaign, in minor units', 'target');
  fundGauge('reader_coop_fund_donations', 'Gifts counted by each open campaign', 'donationCount');
}

/** Calls made while one is in flight share its promise. */
function shared<T>(load: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | undefined;
  return () => (inflight ??= load().finally(() => (inflight = undefined)));
}

export const metricsOpenApi: ZodOpenApiPathsObject = {
  '/metrics': {
    get: {
      tags: ['operations'],
      summary: "The instance's figures for Prometheus",
      description:
        'Prometheus text format: requests by route and status with latency histograms, webhook deliveries and events by type and outcome, ' +
        "job queue depth and failures, emails sent and failed, the open campaigns' totals. Needs `Authorization: Bearer $METRICS_TOKEN`; " +
        'without METRICS_TOKEN configured it answers 404.',
      security: [{ metricsToken: [] }],
      responses: {
        '200': { description: 'The figures', content: { 'text/plain': { schema: z.string() } } },
        ...errorResponses(401, 403, 404),
      },
    },
  },
};
