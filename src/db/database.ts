/** The Kysely instance over a pg pool, with int8 parsed to a guarded safe integer. */
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { toSafeInteger } from '../lib/money.js';
import type { DB } from './schema.js';

// int8 (sums, amounts, identities) become numbers, but never silently lose precision.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => toSafeInteger(v));
// A calendar date stays the 'YYYY-MM-DD' it is; turning it into a Date invites time-zone slips.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export type Database = Kysely<DB>;
export type Executor = Kysely<DB> | Transaction<DB>;

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function connectDatabase(connectionString: string, options: { max?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    // Kysely's destroy() ends the pool it was given.
    close: () => db.destroy(),
  };
}
