/** SQL for what waits on the treasurer's Today page: jobs and emails that failed, reconciliations that found something. */
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';

/** Background jobs that failed for good (every attempt used) or are failing (an error, still retrying). */
export async function countFailingJobs(db: Executor): Promise<{ failed: number; retrying: number }> {
  const { rows } = await sql<{ failed: number; retrying: number }>`
    select count(*) filter (where attempts >= max_attempts)::int8 as failed,
           count(*) filter (where attempts < max_attempts and last_error is not null)::int8 as retrying
      from graphile_worker.jobs`.execute(db);
  return rows[0] ?? { failed: 0, retrying: 0 };
}

/** Emails not sent yet whose last attempt failed. */
export async function countFailingEmails(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('emails')
    .select(sql<number>`count(*)::int8`.as('n'))
    .where('sent_at', 'is', null)
    .where('last_error', 'is not', null)
    .executeTakeFirstOrThrow();
  return row.n;
}
