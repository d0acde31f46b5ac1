/**
 * tableCounts(app): every table of the app's database, in every schema but
 * PostgreSQL's own and the migrator's, with its row count and a checksum of its
 * rows, so a test can say "this request changed nothing" without naming tables
 * (new tables are covered the day they are added).
 */
import { sql } from 'kysely';
import type { TestApp } from './test-app.js';

export interface TableState {
  rows: number;
  checksum: string | null;
}

/**
 * Tables whose rows move by design whatever the request: the rate limiter counts refused
 * requests too; the job workers' heartbeats beat every few seconds.
 */
const MOVING = new Set(['public.rate_limit_windows', 'public.worker_heartbeats']);

export async function tableCounts(app: Pick<TestApp, 'db'>, options: { exclude?: string[] } = {}): Promise<Record<string, TableState>> {
  const { rows: tables } = await sql<{ name: string }>`
    select format('%I.%I', table_schema, table_name) as name
      from information_schema.tables
     where table_type = 'BASE TABLE'
       and table_schema not in ('pg_catalog', 'information_schema')
       and table_name not in ('kysely_migration', 'kysely_migration_lock')
     order by 1`.execute(app.db);
  const skip = new Set([...MOVING, ...(options.exclude ?? [])]);
  const state: Record<string, TableState> = {};
  for (const { name } of tables) {
    if (skip.has(name)) continue;
    const { rows } = await sql<{ rows: string; checksum: string | null }>`
      select count(*)::text as rows, md5(string_agg(t::text, ',' order by t::text)) as checksum from ${sql.raw(name)} t`.execute(app.db);
    state[name] = { rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum };
  }
  return state;
}

const checksumQueries = new WeakMap<object, string>();

/**
 * One round trip: a checksum of every table's rows (the same tables as tableCounts),
 * for tests that compare the database before and after many requests.
 */
export async function databaseChecksum(app: Pick<TestApp, 'db'>): Promise<Record<string, string>> {
  let query = checksumQueries.get(app.db);
  if (!query) {
    const names = Object.keys(await tableCounts(app));
    query = `select json_build_object(${names
      .map((n) => `'${n}', (select count(*) || ':' || coalesce(md5(string_agg(t::text, ',' order by t::text)), '') from ${n} t)`)
      .join(', ')}) as state`;
    checksumQueries.set(app.db, query);
  }
  const { rows } = await sql<{ state: Record<string, string> }>`${sql.raw(query)}`.execute(app.db);
  return rows[0]!.state;
}
