/**
 * The graphile-worker job runner of one instance, and its liveness.
 *
 * graphile-worker locks the jobs it takes with its worker pool's id, and frees
 * the jobs of a process that died only after 4 hours. So each instance announces
 * its pool every `beatMs` in worker_heartbeats, and every instance, on the same
 * beat, unlocks (graphile_worker.force_unlock_workers) the jobs of pools silent
 * for `deadAfterMs`: the heartbeat stopped, or jobs locked that long by a pool that
 * never announced itself. Work of an instance that was killed (webhook events,
 * emails, anything) resumes on another within about `deadAfterMs + beatMs`.
 * Database time is used throughout, so instances' clocks need not agree.
 *
 * A pool that is alive but was silent that long (a stalled event loop) may see a
 * job it still runs taken up elsewhere: jobs are safe to run twice (events carry
 * their result row, emails their dedupe key), which they must be anyway.
 */
import os from 'node:os';
import { EventEmitter } from 'node:events';
import { run as runWorker, type Runner, type TaskList, type WorkerEvents } from 'graphile-worker';
import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import type pg from 'pg';
import { workerLogger } from './jobs.js';
import type { Logger } from './logger.js';

export interface LivenessOptions {
  /** How often this instance announces itself and looks for silent ones (default 5 s). */
  beatMs?: number;
  /** Silence after which another instance's jobs are unlocked (default 30 s). */
  deadAfterMs?: number;
}

export interface JobWorkerOptions {
  pool: pg.Pool;
  db: Database;
  taskList: TaskList;
  crontab?: string;
  concurrency: number;
  pollInterval: number;
  logger: Logger;
  /** graphile-worker's event emitter, if the caller listens too (metrics). */
  events?: WorkerEvents;
  liveness?: LivenessOptions;
}

export interface JobWorker {
  runner: Runner;
  /** graphile-worker's id for this runner's pool: what its locked jobs carry in `locked_by`. */
  workerId: string;
  stop(): Promise<void>;
}

export async function startJobWorker(options: JobWorkerOptions): Promise<JobWorker> {
  const beatMs = options.liveness?.beatMs ?? 5_000;
  const deadAfterMs = options.liveness?.deadAfterMs ?? 30_000;
  const events: WorkerEvents = options.events ?? new EventEmitter();
  let workerId: string | undefined;
  events.on('pool:create', ({ workerPool }) => {
    workerId = workerPool.id;
  });
  const runner = await runWorker({
    pgPool: options.pool,
    taskList: options.taskList,
    ...(options.crontab !== undefined ? { crontab: options.crontab } : {}),
    concurrency: options.concurrency,
    noHandleSignals: true,
    pollInterval: options.pollInterval,
    logger: workerLogger(options.logger),
    events,
  });
  if (!workerId) throw new Error('graphile-worker did not report its worker pool');
  const id = workerId;
  const instance = `${os.hostname()}:${process.pid}`;

  let stopped = false;
  let beating: Promise<void> | undefined;
  const beat = async () => {
    try {
      await announce(options.db, id, instance);
      const unlocked = await unlockSilentWorkers(options.db, deadAfterMs);
      if (unlocked.length > 0) options.logger.warn({ workerIds: unlocked }, 'unlocked the jobs of job workers whose instance went silent');
    } catch (err) {
      options.logger.warn({ err }, 'job worker heartbeat failed; trying again on the next beat');
    }
  };
  beating = beat();
  const timer = setInterval(() => {
    if (stopped || beating) return;
    beating = beat().finally(() => (beating = undefined));
  }, beatMs);
  timer.unref();
  await beating;
  beating = undefined;

  return {
    runner,
    workerId: id,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await beating;
      await runner.stop();
      // Stopped cleanly: its jobs were released by graphile-worker; nothing to unlock for it.
      await sql`delete from worker_heartbeats where worker_id = ${id}`.execute(options.db).catch(() => undefined);
    },
  };
}

async function announce(db: Database, workerId: string, instance: string): Promise<void> {
  await sql`
    insert into worker_heartbeats (worker_id, instance, beat_at) values (${workerId}, ${instance}, now())
    on conflict (worker_id) do update set beat_at = now()`.execute(db);
}

/** Unlocks the jobs (and named queues) of workers silent for `deadAfterMs`; returns their ids. */
async function unlockSilentWorkers(db: Database, deadAfterMs: number): Promise<string[]> {
  const { rows } = await sql<{ ids: string[] }>`
    with dead as (
      delete from worker_heartbeats where beat_at < now() - make_interval(secs => ${deadAfterMs / 1000}) returning worker_id
    ), silent as (
      select distinct locked_by as worker_id from graphile_worker.jobs
       where locked_by is not null and locked_at < now() - make_interval(secs => ${deadAfterMs / 1000})
         and locked_by not in (select worker_id from worker_heartbeats where beat_at >= now() - make_interval(secs => ${deadAfterMs / 1000}))
    ), ids as (
      select worker_id from dead union select worker_id from silent
    )
    select array_agg(worker_id) as ids, graphile_worker.force_unlock_workers(array_agg(worker_id)) is null as unlocked
      from ids having count(*) > 0`.execute(db);
  return rows[0]?.ids ?? [];
}
