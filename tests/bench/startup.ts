/**
 * Cold start (an empty DATA_DIR: initdb, migrations, then /readyz 200) and warm
 * start (the same DATA_DIR again), running the built server as `npm start` does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/lib/net.js';

const serverScript = fileURLToPath(new URL('../../src/server.js', import.meta.url));

export async function benchStartup() {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-start-'));
  try {
    const cold = await timeToReady(dataDir);
    const warm = await timeToReady(dataDir);
    return { coldSeconds: cold, warmSeconds: warm };
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

async function timeToReady(dataDir: string): Promise<number> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DATA_DIR: dataDir,
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  for (const key of ['DATABASE_URL', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'SMTP_URL', 'NODE_ENV']) delete env[key];
  const started = performance.now();
  const child = spawn(process.execPath, [serverScript], { env, stdio: ['ignore', 'ignore', 'inherit'] });
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
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode} before it was ready`);
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
    child.kill('SIGTERM');
  });
}
