/**
 * Webhooks end to end: 2,000 distinct signed checkout.session.completed events for
 * pending donations, sent 16 at a time to the service running as in production
 * (`node dist/src/server.js`, its own process, info logs), against the rate of
 * single-row INSERT transactions on the same database with the same concurrency.
 * Two figures: recording (every delivery answered 200: durably stored with its
 * job, SPEC 3) and applied end to end (from the first delivery until the last
 * booking is visible in GET /api/fighting-fund). The campaign's total must then be
 * exactly the sum given. The service's peak RSS (VmHWM) is reported too.
 */
import { sql } from 'kysely';
import pg from 'pg';
import Stripe from 'stripe';
import { BENCH_WEBHOOK_SECRET, inParallel, startServiceProcess, type ScratchDatabase } from './support.js';
import { postFromWorker, type SignedBody } from './webhook-load.js';

export const EVENTS = 2_000;
export const CONCURRENCY = 16;

export async function benchWebhookIngestion(database: ScratchDatabase) {
  const { db } = database.handle;
  const baselineRate = await singleRowInsertRate(database.url);

  const service = await startServiceProcess(database.url);
  try {
    const first = await fetch(`${service.url}/api/fighting-fund`);
    const { campaign } = (await first.json()) as { campaign: { slug: string } };
    const before = await raised(service.url, campaign.slug);
    const { bodies, expectedSum } = await signedPaymentEvents(db, campaign.slug);

    // The load runs in a worker thread, so polling the fund below does not slow the sending.
    const sending = postFromWorker({ url: service.url, path: '/webhooks/stripe', bodies, concurrency: CONCURRENCY });

    // Until the last booking shows in GET /api/fighting-fund (the service's own cache included).
    let booked = 0;
    let bookedAt = performance.timeOrigin + performance.now();
    const giveUpAt = bookedAt + 300_000;
    while (bookedAt < giveUpAt) {
      booked = (await raised(service.url, campaign.slug)) - before;
      bookedAt = performance.timeOrigin + performance.now();
      if (booked >= expectedSum) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const load = await sending;
    if (load.firstFailure) console.error(`first failed delivery: ${load.firstFailure}`);
    const endToEndSeconds = (bookedAt - load.startedAt) / 1000;
    const applied = (await sql<{ n: number }>`select count(*)::int as n from stripe_event_results where event_id like 'evt_bench_%'`.execute(db)).rows[0]!.n;
    const peakRssMb = await service.peakRssMb();
    return {
      events: EVENTS,
      eventsPerSecond: EVENTS / load.seconds,
      baselineInsertsPerSecond: baselineRate,
      ratio: EVENTS / load.seconds / baselineRate,
      appliedPerSecond: EVENTS / endToEndSeconds,
      endToEndSeconds,
      endToEndRatio: EVENTS / endToEndSeconds / baselineRate,
      applied,
      failures: load.failures,
      expectedSum,
      bookedSum: booked,
      exact: booked === expectedSum,
      peakRssMb,
    };
  } finally {
    await service.stop();
  }
}

/**
 * EVENTS pending donations to the campaign, each with the Checkout Session we would
 * have created for it, and the signed checkout.session.completed event that pays it.
 */
export async function signedPaymentEvents(db: ScratchDatabase['handle']['db'], campaignSlug: string): Promise<{ bodies: SignedBody[]; expectedSum: number }> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const rows = await sql<{ donation_id: string; checkout_id: string; amount: number; n: number }>`
    with d as (
      insert into donations (campaign_id, amount, currency, email)
      select c.id, 100 + g, c.currency, 'bench' || g || '@example.org'
      from campaigns c, generate_series(1, ${EVENTS}) g where c.slug = ${campaignSlug}
      returning id, amount
    ), numbered as (select id, amount, row_number() over (order by id) as n from d)
    insert into checkout_sessions (purpose, record_id, mode, amount, currency, stripe_session_id, url, status)
    select 'donation', id, 'payment', amount, 'GBP', 'cs_bench_' || n, 'http://sandbox.invalid/' || n, 'open' from numbered
    returning record_id as donation_id, id as checkout_id, amount, substring(stripe_session_id from 10)::int as n`.execute(db);
  const bodies = rows.rows.map((r) => {
    const payload = JSON.stringify(completedEvent(r, nowSeconds));
    return { payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: BENCH_WEBHOOK_SECRET }) };
  });
  return { bodies, expectedSum: rows.rows.reduce((sum, r) => sum + r.amount, 0) };
}

function completedEvent(r: { donation_id: string; checkout_id: string; amount: number; n: number }, created: number) {
  const session = {
    id: `cs_bench_${r.n}`,
    object: 'checkout.session',
    mode: 'payment',
    status: 'complete',
    payment_status: 'paid',
    amount_total: r.amount,
    amount_subtotal: r.amount,
    currency: 'gbp',
    client_reference_id: r.donation_id,
    metadata: { purpose: 'donation', record_id: r.donation_id, checkout_id: r.checkout_id },
    payment_intent: `pi_bench_${r.n}`,
    customer: null,
    customer_email: `bench${r.n}@example.org`,
    livemode: false,
    created,
  } satisfies Partial<Stripe.Checkout.Session>;
  return {
    id: `evt_bench_${r.n}`,
    object: 'event',
    api_version: Stripe.API_VERSION,
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'checkout.session.completed',
    data: { object: session },
  };
}

async function raised(url: string, slug: string): Promise<number> {
  const res = await fetch(`${url}/api/fighting-fund/${slug}`);
  return ((await res.json()) as { raised: number }).raised;
}

/** The reference rate: BEGIN; INSERT one row; COMMIT; 16 clients at a time. */
export async function singleRowInsertRate(url: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY });
  try {
    await pool.query('create table if not exists bench_single_row (id bigint generated always as identity primary key, payload jsonb not null, at timestamptz not null default now())');
    const items = Array.from({ length: EVENTS }, (_, i) => i);
    const started = performance.now();
    await inParallel(items, CONCURRENCY, async (i) => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query('insert into bench_single_row (payload) values ($1)', [JSON.stringify({ i, event: `evt_${i}` })]);
        await client.query('commit');
      } finally {
        client.release();
      }
    });
    return EVENTS / ((performance.now() - started) / 1000);
  } finally {
    await pool.query('drop table if exists bench_single_row');
    await pool.end();
  }
}
