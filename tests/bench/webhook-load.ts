/**
 * The webhook benchmark's load generator, run in a worker thread so that sending
 * 5,000 requests does not compete with the app for its own event loop (the app
 * under test in production never hosts its load generator). It POSTs the
 * pre-signed bodies over keep-alive connections, `concurrency` at a time, and
 * reports how long that took and how many were not answered 200.
 */
import http from 'node:http';
import { parentPort, Worker, workerData } from 'node:worker_threads';

export interface SignedBody {
  payload: string;
  signature: string;
}

interface LoadJob {
  url: string;
  path: string;
  bodies: SignedBody[];
  concurrency: number;
}

interface LoadResult {
  /** When the first request was sent (epoch milliseconds, comparable across threads). */
  startedAt: number;
  seconds: number;
  failures: number;
  firstFailure: string | null;
}

/** Sends every body to `url + path` from a worker thread; resolves when the last one is answered. */
export function postFromWorker(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    worker.once('message', (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with ${code}`));
    });
  });
}

async function run(job: LoadJob): Promise<LoadResult> {
  const target = new URL(job.path, job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  let failures = 0;
  let firstFailure: string | null = null;
  const post = (body: SignedBody) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body.payload),
            'stripe-signature': body.signature,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) {
              failures++;
              firstFailure ??= `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`;
            }
            resolve();
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body.payload);
    });

  let next = 0;
  const startedAt = performance.timeOrigin + performance.now();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.bodies.length) await post(job.bodies[next++]!);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { startedAt, seconds, failures, firstFailure };
}

if (parentPort && workerData) {
  const port = parentPort;
  run(workerData as LoadJob).then(
    (result) => port.postMessage(result),
    (err: unknown) => {
      throw err;
    },
  );
}
