/**
 * The fund's read cost against the size of the ledger: the median latency of
 * GET /api/fighting-fund with the in-process cache dropped before every request
 * (so each one reads the database), with 10,000 and then 1,000,000 ledger entries
 * in the current campaign (seeded with SQL). Running totals keep the ratio near 1.
 */
import { sql } from 'kysely';
import { invalidateFundCache } from '../../src/fighting-fund/fund-cache.js';
import { startBenchApp, type ScratchDatabase } from './support.js';

const SMALL = 10_000;
const LARGE = 1_000_000;
const REQUESTS = 400;

export async function benchFundLatency(database: ScratchDatabase) {
  const { db } = database.handle;
  const app = await startBenchApp(database);
  try {
    const first = await fetch(`${app.url}/api/fighting-fund`);
    const { campaign } = (await first.json()) as { campaign: { slug: string } };
    const seed = async (from: number, to: number) => {
      await sql`
        insert into ledger_entries (campaign_id, kind, method, amount, currency, given_at, source_ref)
        select c.id, 'offline_gift', 'cash', 100 + (g % 5000), c.currency, c.starts_at + interval '1 millisecond' * g, 'bench-' || g
        from campaigns c, generate_series(${from}::int, ${to}::int) g
        where c.slug = ${campaign.slug}`.execute(db);
      await sql`analyze ledger_entries`.execute(db);
    };
    await seed(1, SMALL);
    const small = await medianUncachedMs(app.url, SMALL);
    await seed(SMALL + 1, LARGE);
    const large = await medianUncachedMs(app.url, LARGE);
    return { smallEntries: SMALL, largeEntries: LARGE, smallMs: small, largeMs: large, ratio: large / small };
  } finally {
    await app.close();
  }
}

async function medianUncachedMs(url: string, expectedCount: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS + 50; i++) {
    invalidateFundCache();
    const started = performance.now();
    const res = await fetch(`${url}/api/fighting-fund`);
    const body = (await res.json()) as { donationCount: number };
    const ms = performance.now() - started;
    if (body.donationCount !== expectedCount) throw new Error(`the fund counts ${body.donationCount} gifts, not ${expectedCount}`);
    // The first 50 warm the connections and the plan cache.
    if (i >= 50) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
