/**
 * The chaos run's moving parts that can be killed: service instances as real
 * child processes (`node dist/src/server.js` with the flags systemd gives it), and an
 * embedded PostgreSQL that can be stopped and started again on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createLogger } from '../../src/lib/logger.js';
import { freePort } from '../../src/lib/net.js';
import { SERVICE_NODE_FLAGS } from '../../src/node-flags.js';

export class ChaosDatabase {
  private server: EmbeddedDatabase | undefined;
  url = '';
  private constructor(
    private readonly dataDir: string,
    private readonly port: number,
  ) {}

  static async start(dataDir: string): Promise<ChaosDatabase> {
    const db = new ChaosDatabase(dataDir, await freePort());
    await db.start();
    return db;
  }

  async start(): Promise<void> {
    this.server = await startEmbeddedPostgres({ dataDir: this.dataDir, port: this.port, logger: createLogger('silent'), database: 'reader_coop' });
    this.url = this.server.url;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}

/** One service instance: a child process on its own port, restartable. */
export class Instance {
  private child: ChildProcess | undefined;
  readonly url: string;
  /** Times the process was started again after it died or was killed. */
  restarts = 0;
  private log: fs.WriteStream;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    logFile: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.log = fs.createWriteStream(logFile, { flags: 'a' });
  }

  static async create(name: string, dir: string, env: Record<string, string>): Promise<Instance> {
    const port = await freePort();
    const dataDir = path.join(dir, name);
    fs.mkdirSync(dataDir, { recursive: true });
    return new Instance(name, port, { ...env, PORT: String(port), DATA_DIR: dataDir }, path.join(dir, `${name}.log`));
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once GET /readyz answers 200. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, 'dist/src/server.js'], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.pipe(this.log, { end: false });
    child.stderr.pipe(this.log, { end: false });
    const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`${this.name} exited (${code ?? signal}) while starting; see its log`))));
    exited.catch(() => undefined);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const ready = await fetch(`${this.url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    throw new Error(`${this.name} was not ready within 60 s`);
  }

  /** SIGKILL: no shutdown at all, as when the machine or the OOM killer takes it. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async restart(): Promise<void> {
    this.restarts++;
    await this.start();
  }

  /** SIGTERM and wait for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    await exited;
    clearTimeout(timer);
  }

  /** Keeps the instance up as systemd's Restart=always would: started again whenever it dies. */
  supervise(onRestart: (instance: Instance) => void): () => void {
    let active = true;
    const watch = (): void => {
      if (!active) return;
      const again = () =>
        setTimeout(() => {
          if (!active) return;
          onRestart(this);
          this.restart().then(watch, watch);
        }, 1000);
      if (!this.child || !this.alive) again();
      else this.child.once('exit', again);
    };
    watch();
    return () => {
      active = false;
    };
  }
}
