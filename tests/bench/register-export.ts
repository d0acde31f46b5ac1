/**
 * The register exports at scale: 100,000 members (each with an allotment
 * transaction, so holdings come the way they do in production) are streamed as
 * GET /api/admin/register.csv and /api/admin/register/duplicate.csv from the real
 * app over HTTP, while the process's memory is sampled. The same export of 100
 * members first gives the yardstick: streaming means 100,000 members should cost
 * about as much memory as 100.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { sql } from 'kysely';
import { SESSION_COOKIE, signSessionToken } from '../../src/members/session.service.js';
import { createScratchDatabase, startBenchApp, startBenchPostgres, type BenchApp, type ScratchDatabase } from './support.js';

const MEMBERS = 100_000;
const SMALL = 100;
const SAMPLE_EVERY_MS = 10;
const LIVE_SAMPLE_EVERY_MS = 250;

// A heap that is merely lazy to collect looks like one that keeps everything: to tell them
// apart, the live heap is also sampled right after a forced collection.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

export interface ExportRun {
  seconds: number;
  bytes: number;
  rows: number;
  /** Highest RSS / heap seen during the export, less what it was just before. */
  rssGrowthMb: number;
  heapGrowthMb: number;
  /** Highest heap still in use right after a garbage collection, less the same before: what the export keeps. */
  liveHeapGrowthMb: number;
  peakRssMb: number;
}

export interface RegisterExportFigures {
  members: number;
  /** The full register (with holdings) for all members. */
  seconds: number;
  duplicateSeconds: number;
  bytes: number;
  rows: number;
  duplicateRows: number;
  baselineRssMb: number;
  peakRssMb: number;
  rssGrowthMb: number;
  heapGrowthMb: number;
  liveHeapGrowthMb: number;
  /** The same export with only SMALL members, for comparison. */
  small: { members: number; rssGrowthMb: number; heapGrowthMb: number; liveHeapGrowthMb: number };
  seedSeconds: number;
}

/** Seeds members in `database` (or a scratch database of its own), exports both registers, measures. */
export async function benchRegisterExport(given?: ScratchDatabase): Promise<RegisterExportFigures> {
  const server = given ? undefined : await startBenchPostgres();
  const database = given ?? (await createScratchDatabase(server!.url));
  const app = await startBenchApp(database);
  try {
    const cookie = await adminCookie(app, database);
    // Warm-up: code paths compiled, pools open, before any figure is taken.
    await exportOnce(app, '/api/admin/register.csv', cookie);

    await seedMembers(database, 1, SMALL);
    const small = await exportOnce(app, '/api/admin/register.csv', cookie);

    const seedStarted = performance.now();
    await seedMembers(database, SMALL + 1, MEMBERS);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const baselineRssMb = mb(process.memoryUsage().rss);
    const full = await exportOnce(app, '/api/admin/register.csv', cookie);
    const duplicate = await exportOnce(app, '/api/admin/register/duplicate.csv', cookie);
    if (full.rows !== MEMBERS + 1 || duplicate.rows !== MEMBERS + 1) {
      throw new Error(`register export returned ${full.rows} / ${duplicate.rows} lines, expected ${MEMBERS + 1}`);
    }
    return {
      members: MEMBERS,
      seconds: full.seconds,
      duplicateSeconds: duplicate.seconds,
      bytes: full.bytes,
      rows: full.rows,
      duplicateRows: duplicate.rows,
      baselineRssMb,
      peakRssMb: Math.max(full.peakRssMb, duplicate.peakRssMb),
      rssGrowthMb: Math.max(full.rssGrowthMb, duplicate.rssGrowthMb),
      heapGrowthMb: Math.max(full.heapGrowthMb, duplicate.heapGrowthMb),
      liveHeapGrowthMb: Math.max(full.liveHeapGrowthMb, duplicate.liveHeapGrowthMb),
      small: { members: SMALL, rssGrowthMb: small.rssGrowthMb, heapGrowthMb: small.heapGrowthMb, liveHeapGrowthMb: small.liveHeapGrowthMb },
      seedSeconds,
    };
  } finally {
    await app.close();
    if (!given) {
      await database.drop();
      await server!.stop();
    }
  }
}

/** Members `from`..`to` with a person each and one allotment (the trigger keeps the holdings). */
async function seedMembers(database: ScratchDatabase, from: number, to: number): Promise<void> {
  const { db } = database.handle;
  await db.transaction().execute(async (trx) => {
    await sql`
      insert into people (email, name)
      select 'member' || g || '@bench.example.org', 'Member ' || g from generate_series(${from}::int, ${to}::int) g`.execute(trx);
    await sql`
      insert into members (person_id, kind, name, address_line1, address_line2, town, postcode, country, email, admitted_on, currency)
      select p.id, 'person', p.name, g || ' Long Street', case when g % 3 = 0 then 'Flat ' || (g % 50) end,
             'Town ' || (g % 400), 'LS' || (g % 30) || ' ' || (g % 9) || 'AB', 'United Kingdom', p.email,
             date '2020-01-01' + (g % 2000), 'GBP'
      from generate_series(${from}::int, ${to}::int) g
      join people p on p.email = 'member' || g || '@bench.example.org'
      order by g`.execute(trx);
    await sql`
      insert into share_transactions (member_id, kind, shares, amount, currency, effective_on, recorded_at, note)
      select m.id, 'allotment', 1 + (m.number % 500)::int, (1 + (m.number % 500)) * 100, 'GBP', m.admitted_on, now(), 'bench seed'
      from members m where m.email like 'member%@bench.example.org' and m.shares_held = 0`.execute(trx);
  });
  await sql`analyze members`.execute(db);
}

async function adminCookie(app: BenchApp, database: ScratchDatabase): Promise<string> {
  const person = await database.handle.db
    .insertInto('people')
    .values({ email: 'treasurer@bench.example.org', name: 'Bench Treasurer', roles: ['treasurer'] })
    .returningAll()
    .executeTakeFirstOrThrow();
  const { token } = await signSessionToken(app.deps, person);
  return `${SESSION_COOKIE}=${token}`;
}

/** Streams one export to nowhere, counting bytes and lines and sampling memory. */
async function exportOnce(app: BenchApp, path: string, cookie: string): Promise<ExportRun> {
  collectGarbage();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  let peakLive = before.heapUsed;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, SAMPLE_EVERY_MS);
  const liveSampler = setInterval(() => {
    collectGarbage();
    peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
  }, LIVE_SAMPLE_EVERY_MS);
  const started = performance.now();
  let bytes = 0;
  let rows = 0;
  try {
    const res = await fetch(`${app.url}${path}`, { headers: { cookie } });
    if (res.status !== 200 || !res.body) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) rows++;
    }
  } finally {
    clearInterval(sampler);
    clearInterval(liveSampler);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds,
    bytes,
    rows,
    rssGrowthMb: mb(peakRss - before.rss),
    heapGrowthMb: mb(peakHeap - before.heapUsed),
    liveHeapGrowthMb: mb(peakLive - before.heapUsed),
    peakRssMb: mb(peakRss),
  };
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
