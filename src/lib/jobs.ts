/**
 * Background jobs run by graphile-worker. A job is added with SQL inside the
 * caller's own transaction, so it exists if and only if the change that caused
 * it was committed (the transactional outbox).
 */
import { Logger as WorkerLogger } from 'graphile-worker';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Logger } from './logger.js';

export interface AddJobOptions {
  /** Deduplicates: a second job with the same key replaces the pending one. */
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
  queueName?: string;
}

export async function addJob(
  db: Kysely<any> | Transaction<any>,
  taskIdentifier: string,
  payload: Record<string, unknown>,
  options: AddJobOptions = {},
): Promise<void> {
  await sql`select ${addJobCall(taskIdentifier, payload, options)}`.execute(db);
}

/**
 * The add_job call as an SQL expression, to add a job from inside another
 * statement (e.g. only for the rows an INSERT ... RETURNING produced) in one round trip.
 */
export function addJobCall(taskIdentifier: string, payload: Record<string, unknown>, options: AddJobOptions = {}): RawBuilder<unknown> {
  return sql`graphile_worker.add_job(
      identifier => ${taskIdentifier}::text,
      payload => ${JSON.stringify(payload)}::json,
      queue_name => ${options.queueName ?? null}::text,
      run_at => ${options.runAt ?? null}::timestamptz,
      max_attempts => ${options.maxAttempts ?? null}::int,
      job_key => ${options.jobKey ?? null}::text
    )`;
}

/** graphile-worker's logger, speaking through pino (or silent without one). */
export function workerLogger(logger?: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    if (!logger) return;
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
    logger[method]({ worker: scope, ...meta }, message);
  });
}
