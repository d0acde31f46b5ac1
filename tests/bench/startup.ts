/**
 * Start-up, as a new user meets it: a fresh clone in a private folder (mktemp -d,
 * 0700), `npm install`, then `npm start` until /readyz answers 200 ("install to
 * ready", and "ready": from `npm start` to 200, whose target is 5 s), then a warm
 * `npm start` on the same folder. The clone is of this checkout's committed HEAD.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../src/lib/net.js';

const execFileAsync = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../../..', import.meta.url));

export async function benchStartup() {
  const privateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-fresh-'));
  const checkout = path.join(privateDir, 'fresh');
  try {
    await execFileAsync('git', ['clone', '--quiet', projectRoot, checkout]);
    const installStarted = performance.now();
    await execFileAsync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: checkout, maxBuffer: 64 * 1024 * 1024 });
    const installSeconds = (performance.now() - installStarted) / 1000;
    const cold = await timeToReady(checkout);
    const warm = await timeToReady(checkout);
    return { installSeconds, coldSeconds: cold, installToReadySeconds: installSeconds + cold, warmSeconds: warm };
  } finally {
    // As root from a private folder, the embedded cluster lives in a folder of its own (postgres-location.txt says where).
    const location = await fs.readFile(path.join(checkout, 'var', 'postgres-location.txt'), 'utf8').catch(() => '');
    const home = /lives in (\/\S+), owned/.exec(location)?.[1];
    if (home) await fs.rm(home, { recursive: true, force: true });
    await fs.rm(privateDir, { recursive: true, force: true });
  }
}

async function timeToReady(checkout: string): Promise<number> {
  const port = await freePort();
  const unset = new Set(['DATABASE_URL', 'DATA_DIR', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'SMTP_URL', 'NODE_ENV', 'PUBLIC_URL']);
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !unset.has(key))),
    PORT: String(port),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  const started = performance.now();
  // Its own process group, so stopping it reaches npm, node and PostgreSQL as Ctrl-C would.
  const child = spawn('npm', ['start'], { cwd: checkout, env, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  try {
    await waitForReady(`http://127.0.0.1:${port}/readyz`, child);
    return (performance.now() - started) / 1000;
  } finally {
    await stop(child);
  }
}

async function waitForReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the server was not ready within 120 s');
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    process.kill(-child.pid!, 'SIGINT');
  });
}
