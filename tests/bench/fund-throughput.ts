/**
 * GET /api/fighting-fund with 100,000 ledger entries in the current campaign,
 * against a bare Express app serving a constant JSON body of the same size:
 * same load tool (autocannon), same connections, same duration, one after the other.
 */
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import express from 'express';
import { sql } from 'kysely';
import { startBenchApp, type ScratchDatabase } from './support.js';

const ENTRIES = 100_000;
const CONNECTIONS = 32;
const DURATION_S = 8;

export async function benchFundThroughput(database: ScratchDatabase) {
  const app = await startBenchApp(database);
  try {
    // The first request creates this month's campaign; then 100,000 entries go into it.
    const first = await fetch(`${app.url}/api/fighting-fund`);
    const { campaign } = (await first.json()) as { campaign: { slug: string } };
    await sql`
      insert into ledger_entries (campaign_id, kind, method, amount, currency, given_at, source_ref)
      select c.id, 'offline_gift', 'cash', 100 + (g % 5000), c.currency, c.starts_at + interval '1 second' * g, 'bench-' || g
      from campaigns c, generate_series(1, ${ENTRIES}) g
      where c.slug = ${campaign.slug}`.execute(database.handle.db);
    await sql`analyze ledger_entries`.execute(database.handle.db);
    // Let any cached summary expire so the figure includes the real sums.
    await new Promise((r) => setTimeout(r, 2_100));
    const body = await (await fetch(`${app.url}/api/fighting-fund`)).text();
    const summary = JSON.parse(body) as { donationCount: number; raised: number };

    const bare = express();
    bare.get('/api/fighting-fund', (_req, res) => {
      res.type('application/json').send(body);
    });
    const bareServer = bare.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => bareServer.once('listening', resolve));
    const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}`;

    try {
      await load(`${app.url}/api/fighting-fund`, 2); // warm-up
      await load(`${bareUrl}/api/fighting-fund`, 2);
      const service = await load(`${app.url}/api/fighting-fund`, DURATION_S);
      const baseline = await load(`${bareUrl}/api/fighting-fund`, DURATION_S);
      return {
        entries: ENTRIES,
        entriesCounted: summary.donationCount,
        bodyBytes: Buffer.byteLength(body),
        serviceRps: service.rps,
        baselineRps: baseline.rps,
        serviceErrors: service.errors,
        ratio: service.rps / baseline.rps,
      };
    } finally {
      await new Promise<void>((resolve) => bareServer.close(() => resolve()));
    }
  } finally {
    await app.close();
  }
}

async function load(url: string, seconds: number): Promise<{ rps: number; errors: number }> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  return { rps: result.requests.total / seconds, errors: result.errors + result.non2xx };
}
