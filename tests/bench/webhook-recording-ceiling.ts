/**
 * What recording alone costs on this machine: the webhook benchmark's 2,000 signed
 * events, 16 at a time, to the app with NO job worker running anywhere, so nothing
 * is applied while they arrive (their jobs wait in the database). Each delivery is
 * still verified, stored with its job and answered 200 after its commit.
 *
 * It is the ceiling for the "recorded" figure of webhook-ingestion.ts, where the
 * same deliveries share the machine's cores with the work of applying them: the
 * recording figure can only be below this one. The app runs in this process (the
 * service process always starts its worker) with the load in a worker thread, as
 * there.
 */
import { CONCURRENCY, EVENTS, signedPaymentEvents, singleRowInsertRate } from './webhook-ingestion.js';
import { postFromWorker } from './webhook-load.js';
import { startBenchApp, type ScratchDatabase } from './support.js';

export async function benchWebhookRecordingCeiling(database: ScratchDatabase) {
  const baselineRate = await singleRowInsertRate(database.url);
  const app = await startBenchApp(database, { jobWorker: false });
  try {
    const { campaign } = (await (await fetch(`${app.url}/api/fighting-fund`)).json()) as { campaign: { slug: string } };
    const { bodies } = await signedPaymentEvents(database.handle.db, campaign.slug);
    const load = await postFromWorker({ url: app.url, path: '/webhooks/stripe', bodies, concurrency: CONCURRENCY });
    if (load.firstFailure) console.error(`first failed delivery: ${load.firstFailure}`);
    return {
      eventsPerSecond: EVENTS / load.seconds,
      baselineInsertsPerSecond: baselineRate,
      ratio: EVENTS / load.seconds / baselineRate,
      failures: load.failures,
    };
  } finally {
    await app.close();
  }
}
