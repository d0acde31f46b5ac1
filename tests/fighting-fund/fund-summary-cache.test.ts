import { Kysely, PostgresDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DB } from '../../src/db/schema.js';
import { invalidateFundCache } from '../../src/fighting-fund/fund-cache.js';
import { FundSummaries } from '../../src/fighting-fund/fund-summary.service.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { giveOnline } from './fund-helpers.js';

describe('the in-process cache of fund summaries', () => {
  let app: TestApp;
  let queries: string[];
  let countingDb: Kysely<DB>;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    queries = [];
    // The app's own pool, seen through a Kysely that counts every query it sends.
    countingDb = new Kysely<DB>({
      dialect: new PostgresDialect({ pool: app.database.pool }),
      log: (event) => {
        queries.push(event.query.sql);
      },
    });
  });
  afterAll(() => app.close());

  const summaries = (ttlMs: number) => new FundSummaries({ ...app.deps, db: countingDb }, { ttlMs });

  it('when many requests arrive together, then one load serves them all (single flight)', async () => {
    const cache = summaries(60_000);
    await cache.get(null); // creates the month's campaign, so both loads below do the same work
    const alone = summaries(60_000);
    queries.length = 0;
    await alone.get(null);
    const perLoad = queries.length;
    expect(perLoad).toBeGreaterThan(0);

    const together = summaries(60_000);
    queries.length = 0;
    const results = await Promise.all(Array.from({ length: 20 }, () => together.get(null)));
    expect(queries.length).toBe(perLoad);
    expect(new Set(results.map((r) => r.etag)).size).toBe(1);
  });

  it('when asked again within its lifetime, then it answers without the database', async () => {
    const cache = summaries(60_000);
    await cache.get('2026-11');
    queries.length = 0;
    const again = await cache.get('2026-11');
    expect(queries).toEqual([]);
    expect(JSON.parse(again.body.toString())).toEqual(again.summary);
  });

  it('when an entry is booked in this process, then the next answer is loaded afresh and shows it', async () => {
    const cache = summaries(60_000);
    const before = await cache.get(null);
    await giveOnline(app, { amount: 4321 });
    queries.length = 0;
    const after = await cache.get(null);
    expect(queries.length).toBeGreaterThan(0);
    expect(after.summary.raised).toBe(before.summary.raised + 4321);
  });

  it('when invalidated while a load is in flight, then a later request does not join that stale load', async () => {
    const cache = summaries(60_000);
    const first = cache.get(null);
    invalidateFundCache();
    const second = cache.get(null);
    expect(second).not.toBe(first);
    await Promise.all([first, second]);
  });

  it('when its lifetime is over, then it loads again (another instance’s entries show up)', async () => {
    const cache = summaries(0);
    await cache.get(null);
    queries.length = 0;
    await cache.get(null);
    expect(queries.length).toBeGreaterThan(0);
  });

  it('when the clock passes local midnight, then the countdown is recomputed even within the lifetime', async () => {
    const cache = summaries(60_000);
    app.clock.set('2026-11-20T23:59:00Z');
    expect((await cache.get(null)).summary.daysRemaining).toBe(11);
    app.clock.set('2026-11-21T00:00:30Z');
    expect((await cache.get(null)).summary.daysRemaining).toBe(10);
  });

  it('does not keep an unknown campaign, and answers it 404 each time', async () => {
    const cache = summaries(60_000);
    await expect(cache.get('2090-01')).rejects.toMatchObject({ status: 404, code: 'campaign_not_found' });
    await expect(cache.get('2090-01')).rejects.toMatchObject({ status: 404 });
  });
});
