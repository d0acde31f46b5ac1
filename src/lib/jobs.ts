/**
 * Background jobs run by graphile-worker. A job is added with SQL inside the
 * caller's own transaction, so it exists if and only if the change that caused
 * it was committed (the transactional outbox).
 */
import { Logger as WorkerLogger } from 'graphile-worker';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Executor } from '../db/database.js';
import type { Logger } from './logger.js';

export interface AddJobOptions {
  /** Deduplicates: a second job with the same key replaces the pending one. */
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
  queueName?: string;
}

/** An object, or an array: a graphile-worker batch job, whose task settles each entry on its own. */
export type JobPayload = Record<string, unknown> | unknown[];

export async function addJob<D>(
  db: Kysely<D> | Transaction<D>,
  taskIdentifier: string,
  payload: JobPayload,
  options: AddJobOptions = {},
): Promise<void> {
  await sql`select ${addJobCall(taskIdentifier, payload, options)}`.execute(db);
}

/**
 * The add_job call as an SQL expression, to add a job from inside another
 * statement (e.g. only for the rows an INSERT ... RETURNING produced) in one round trip.
 */
export function addJobCall(taskIdentifier: string, payload: JobPayload, options: AddJobOptions = {}): RawBuilder<unknown> {
  return sql`graphile_worker.add_job(
      identifier => ${taskIdentifier}::text,
      payload => ${JSON.stringify(payload)}::json,
      queue_name => ${options.queueName ?? null}::text,
      run_at => ${options.runAt ?? null}::timestamptz,
      max_attempts => ${options.maxAttempts ?? null}::int,
      job_key => ${options.jobKey ?? null}::text
    )`;
}

/** graphile-worker's level names (a const enum of strings) as pino's. */
const pinoLevels: Partial<Record<string, 'error' | 'warn' | 'info'>> = { error: 'error', warning: 'warn', info: 'info' };

/** graphile-worker's logger, speaking through pino (or silent without one). */
export function workerLogger(logger?: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    if (!logger) return;
    const method = pinoLevels[level] ?? 'debug';
    logger[method]({ worker: scope, ...meta }, message);
  });
}

export interface JobQueueFigures {
  task: string;
  /** Due now and not taken by a worker. */
  ready: number;
  /** Taken by a worker (running, or held by an instance that died until it is unlocked). */
  locked: number;
  /** Waiting for a later run (scheduled, or backing off after a failure). */
  scheduled: number;
  /** Failed at least once and will be tried again. */
  retrying: number;
  /** Out of attempts: will not run again unless someone acts. */
  failed: number;
}

/** The graphile-worker queue per task, for GET /metrics (one query over the jobs view). */
export async function jobQueueFigures(db: Executor): Promise<JobQueueFigures[]> {
  const { rows } = await sql<JobQueueFigures>`
    select task_identifier as task,
           count(*) filter (where locked_at is null and run_at <= now() and attempts < max_attempts)::int8 as ready,
           count(*) filter (where locked_at is not null)::int8 as locked,
           count(*) filter (where locked_at is null and run_at > now() and attempts < max_attempts)::int8 as scheduled,
           count(*) filter (where last_error is not null and attempts < max_attempts)::int8 as retrying,
           count(*) filter (where attempts >= max_attempts)::int8 as failed
      from graphile_worker.jobs
     group by task_identifier
     order by task_identifier`.execute(db);
  return rows;
}
