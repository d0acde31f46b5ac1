/**
 * npm run test:chaos: a month of payments replayed against two service
 * instances (real child processes) over one embedded PostgreSQL, with the local
 * Stripe-compatible server and SMTP server, while things go wrong:
 *
 *   - every webhook event is delivered 1 to 3 times, shuffled, some copies to
 *     both instances at the same moment; a delivery that fails is retried, as
 *     Stripe does;
 *   - one instance is killed with SIGKILL mid-stream and restarted (the run
 *     supervises both instances as systemd's Restart=always would);
 *   - PostgreSQL is stopped and started again;
 *   - the SMTP server refuses mail for a while.
 *
 * Then the ledger, the register and the fund's figures must match what the
 * simulated Stripe holds, to the penny and the share, and every email must have
 * been sent (a message accepted just before a crash may arrive twice with the
 * same Message-ID: counted and printed). Exits 1 on any mismatch.
 *
 * CHAOS_SCALE (default 1) multiplies the month's size; CHAOS_REPORT names a
 * JSON file for the verdict (.ci/run counts it). The embedded PostgreSQL
 * is always used (it must be stoppable), whatever TEST_DATABASE_URL says.
 *
 * Supporters (supporters.ts) sign up, renew several times, fail and recover,
 * are cancelled from Stripe's side and have payments refunded; their events are
 * mixed into the month's (each list keeping its own order) before delivery.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import pg from 'pg';
import Stripe from 'stripe';
import { startFakeStripe } from '../support/fake-stripe.js';
import { startTestSmtp } from '../support/smtp.js';
import type { SandboxEvent } from '../../src/payments/sandbox/sandbox.js';
import { ChaosDatabase, Instance } from './processes.js';
import { eachLimit, expectedBooks, playMonth, type Month } from './month.js';
import { expectedSupporters, playSupporters, type SupporterSignup } from './supporters.js';

const SECRET = 'whsec_chaos_reader_coop';
const METRICS_TOKEN = 'chaos-metrics-token-0123456789';
const scale = Number(process.env.CHAOS_SCALE ?? '1');
// Volumes trimmed (from 2000 donations and 500 share purchases) to make room for the supporters within 5 minutes.
const size = { donations: Math.round(1700 * scale), sharePurchases: Math.round(420 * scale), supporters: Math.round(300 * scale), renewals: 3 };
const dir = path.resolve('var/chaos');

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const say = (line: string) => console.log(`[chaos ${elapsed()}] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const figures = {
  eventsMade: 0,
  deliveries: 0,
  deliveriesRecorded: 0,
  deliveriesDuplicate: 0,
  deliveriesToBoth: 0,
  deliveriesFailed: 0,
  kills: 0,
  instanceRestarts: 0,
  postgresRestarts: 0,
  smtpOutageSeconds: 0,
};

async function main(): Promise<number> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });

  const database = await ChaosDatabase.start(path.join(dir, 'db'));
  const stripe = await startFakeStripe({ webhookSecret: SECRET });
  const smtp = await startTestSmtp();
  const env = {
    NODE_ENV: 'development',
    DATABASE_URL: database.url,
    PUBLIC_URL: 'http://reader-coop.localhost',
    STRIPE_SECRET_KEY: 'sk_test_chaos',
    STRIPE_WEBHOOK_SECRET: SECRET,
    STRIPE_API_BASE: stripe.url,
    SMTP_URL: smtp.url,
    AUTH_SECRET: 'chaos-secret-chaos-secret-chaos-secret-0123',
    METRICS_TOKEN,
    LOG_LEVEL: 'warn',
  };
  const instances = [await Instance.create('instance-a', dir, env), await Instance.create('instance-b', dir, env)];
  // One after the other: the first applies the migrations.
  for (const i of instances) await i.start();
  const unsupervise = instances.map((i) =>
    i.supervise((inst) => {
      figures.instanceRestarts++;
      say(`${inst.name} is down: restarting it`);
    }),
  );
  say(`two instances up (${instances.map((i) => i.url).join(', ')}), PostgreSQL at ${database.url.replace(/:[^:@/]+@/, ':***@')}`);

  let failures: string[] = [];
  try {
    let turn = 0;
    const post = async (urlPath: string, body: unknown) => {
      for (let attempt = 1; ; attempt++) {
        const instance = instances[turn++ % instances.length]!;
        try {
          const res = await fetch(instance.url + urlPath, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          return { status: res.status, body: await res.json() };
        } catch (err) {
          if (attempt >= 5) throw err;
          await sleep(500);
        }
      }
    };

    say(`a month of readers: ${size.donations} donations and ${size.sharePurchases} share purchases started through the instances`);
    const month = await playMonth(stripe, post, size);
    say(`supporters: ${size.supporters} sign up through the instances, ${size.renewals} rounds of renewals on Stripe's side`);
    const supporters = await playSupporters(stripe, post, size, eachLimit);
    month.events = interleave(month.events, supporters.events);
    Object.assign(month.counts, supporters.counts);
    figures.eventsMade = month.events.length;
    say(`Stripe's side: ${Object.entries(month.counts).map(([k, v]) => `${v} ${k}`).join(', ')}; ${month.events.length} events`);

    await deliverWithChaos(month, instances, database, smtp);
    say('every delivery answered 2xx; waiting for the books to settle');

    failures = await verify(month, supporters.signups, stripe, database, instances, smtp);
  } finally {
    for (const stop of unsupervise) stop();
    await Promise.all(instances.map((i) => i.stop()));
    await smtp.close();
    await stripe.close();
    await database.stop();
  }
  say(`done in ${elapsed()}`);
  // For .ci/run's count of every test that ran (the suites' JSON reports have the same two fields).
  if (process.env.CHAOS_REPORT) {
    fs.writeFileSync(process.env.CHAOS_REPORT, JSON.stringify({ numPassedTests: failures.length === 0 ? 1 : 0, numFailedTests: failures.length === 0 ? 0 : 1, failures }));
  }
  if (failures.length > 0) {
    console.log(`\nCHAOS FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    return 1;
  }
  console.log('\nCHAOS PASSED: nothing lost, nothing doubled');
  return 0;
}

/** The two lists mixed at random, each keeping its own order (a renewal's events after its sign-up's, as Stripe sends them). */
function interleave<T>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && randomInt(a.length - i + b.length - j) < a.length - i)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

interface Job {
  event: SandboxEvent;
  toBoth: boolean;
}

/**
 * Each event 1 to 3 times (one copy in ten to both instances at once), in an
 * order shuffled within windows of a few hundred deliveries: a refund may
 * arrive before its payment, a dispute's close before its opening. The faults
 * are set off as the deliveries pass given points.
 */
async function deliverWithChaos(month: Month, instances: Instance[], database: ChaosDatabase, smtp: Awaited<ReturnType<typeof startTestSmtp>>) {
  const jobs: Job[] = [];
  for (const event of month.events) {
    const copies = 1 + randomInt(3);
    for (let c = 0; c < copies; c++) jobs.push({ event, toBoth: Math.random() < 0.1 });
  }
  const window = 400;
  for (let start = 0; start < jobs.length; start += window) {
    const end = Math.min(start + window, jobs.length);
    for (let i = end - 1; i > start; i--) {
      const j = start + randomInt(i - start + 1);
      [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
    }
  }
  say(`delivering ${jobs.length} webhook deliveries of ${month.events.length} events, 16 at a time`);

  const chaos: Promise<void>[] = [];
  const at = (fraction: number) => Math.floor(jobs.length * fraction);
  const triggers = new Map<number, () => Promise<void>>([
    [
      at(0.25),
      () => {
        figures.kills++;
        say('SIGKILL instance-b');
        instances[1]!.kill();
        return Promise.resolve();
      },
    ],
    [
      at(0.5),
      async () => {
        say('stopping PostgreSQL');
        await database.stop();
        await sleep(3000);
        await database.start();
        figures.postgresRestarts++;
        say('PostgreSQL started again');
      },
    ],
    [
      at(0.65),
      async () => {
        say('the SMTP server refuses mail');
        await smtp.stop();
        const seconds = 20;
        await sleep(seconds * 1000);
        await smtp.start();
        figures.smtpOutageSeconds += seconds;
        say('the SMTP server accepts mail again');
      },
    ],
  ]);

  await eachLimit(jobs, 16, async (job, index) => {
    const trigger = triggers.get(index);
    if (trigger) {
      triggers.delete(index);
      chaos.push(trigger());
    }
    if (job.toBoth) {
      figures.deliveriesToBoth++;
      await Promise.all(instances.map((i) => deliver(job.event, i, instances)));
    } else {
      await deliver(job.event, instances[randomInt(instances.length)]!, instances);
    }
  });
  await Promise.all(chaos);
}

/** One delivery as Stripe makes it: signed now, retried (on any instance) until answered 2xx. */
async function deliver(event: SandboxEvent, first: Instance, instances: Instance[]): Promise<void> {
  const payload = JSON.stringify(event);
  let target = first;
  for (let attempt = 1; ; attempt++) {
    figures.deliveries++;
    try {
      const res = await fetch(`${target.url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) },
        body: payload,
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.json().catch(() => ({}))) as { outcome?: string };
      if (res.ok) {
        if (body.outcome === 'duplicate') figures.deliveriesDuplicate++;
        else figures.deliveriesRecorded++;
        return;
      }
    } catch {
      // Refused or cut off: the instance is down, or died mid-answer.
    }
    figures.deliveriesFailed++;
    if (attempt > 200) throw new Error(`event ${event.id} could not be delivered`);
    await sleep(Math.min(2000, 100 * attempt));
    target = instances[randomInt(instances.length)]!;
  }
}

async function verify(month: Month, signups: SupporterSignup[], stripe: Awaited<ReturnType<typeof startFakeStripe>>, database: ChaosDatabase, instances: Instance[], smtp: Awaited<ReturnType<typeof startTestSmtp>>): Promise<string[]> {
  const expected = expectedBooks(stripe, month);
  const expectedSup = expectedSupporters(stripe, signups);
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  const failures: string[] = [];
  try {
    const donationIds = [...expected.donationNet.keys()];
    const applicationIds = [...expected.applicationShares.keys()];
    const books = async () => {
      const ledger = await db.query<{ donation_id: string; net: string }>(
        'select donation_id, sum(amount)::int8 as net from ledger_entries where donation_id = any($1::uuid[]) group by donation_id',
        [donationIds],
      );
      const register = await db.query<{ application_id: string; shares: string }>(
        'select application_id, sum(shares)::int8 as shares from share_transactions where application_id = any($1::uuid[]) group by application_id',
        [applicationIds],
      );
      const net = new Map(ledger.rows.map((r) => [r.donation_id, Number(r.net)]));
      const shares = new Map(register.rows.map((r) => [r.application_id, Number(r.shares)]));
      const wrongGifts = donationIds.filter((id) => (net.get(id) ?? 0) !== expected.donationNet.get(id));
      const wrongAllotments = applicationIds.filter((id) => (shares.get(id) ?? 0) !== expected.applicationShares.get(id));
      const rows = await db.query<{ id: string; status: string; amount: string; interval: string }>('select id::text as id, status::text as status, amount::int8 as amount, interval::text as interval from supporters where id = any($1::uuid[])', [
        [...expectedSup.rows.keys()],
      ]);
      const got = new Map(rows.rows.map((r) => [r.id, r]));
      const wrongSupporters = [...expectedSup.rows].filter(([id, want]) => {
        const row = got.get(id);
        return !row || row.status !== want.status || Number(row.amount) !== want.amount || row.interval !== want.interval;
      });
      // Each paid invoice: one supporter_payment entry, less the refunds that name it.
      const entries = await db.query<{ source_ref: string; booked: string; net: string }>(
        `select p.source_ref, count(distinct p.id)::int8 as booked, (p.amount + coalesce((select sum(b.amount) from ledger_entries b where b.original_entry_id = p.id), 0))::int8 as net
           from ledger_entries p where p.kind = 'supporter_payment' group by p.id, p.source_ref, p.amount`,
      );
      const invoiceNet = new Map<string, number>();
      const bookedTwice = new Set<string>();
      for (const e of entries.rows) {
        if (invoiceNet.has(e.source_ref)) bookedTwice.add(e.source_ref);
        invoiceNet.set(e.source_ref, (invoiceNet.get(e.source_ref) ?? 0) + Number(e.net));
      }
      const wrongInvoices = [...new Set([...expectedSup.invoiceNet.keys(), ...invoiceNet.keys()])].filter((id) => (invoiceNet.get(id) ?? 0) !== (expectedSup.invoiceNet.get(id) ?? 0));
      const supporterNet = [...invoiceNet.values()].reduce((a, b) => a + b, 0);
      return { net, shares, got, wrongGifts, wrongAllotments, wrongSupporters, wrongInvoices, bookedTwice, supporterNet, supporterPayments: invoiceNet.size };
    };
    const wrongCount = (s: Awaited<ReturnType<typeof books>>) => `${s.wrongGifts.length}/${s.wrongAllotments.length}/${s.wrongSupporters.length}/${s.wrongInvoices.length}`;

    // Settled: the books match. A backlog (events whose job backed off while PostgreSQL was
    // away) may take a while; the run waits as long as the books keep moving, and gives up
    // after 60 s without any change, or 240 s in all.
    const unapplied = async () =>
      Number((await db.query<{ n: string }>('select count(*)::int8 as n from stripe_events e where not exists (select 1 from stripe_event_results r where r.event_id = e.id)')).rows[0]!.n);
    const settleBy = Date.now() + 240_000;
    let state = await books();
    let left = await unapplied();
    let movedAt = Date.now();
    while ((wrongCount(state) !== '0/0/0/0' || left > 0) && Date.now() < settleBy && Date.now() - movedAt < 60_000) {
      await sleep(1000);
      const before = `${wrongCount(state)}/${left}`;
      state = await books();
      left = await unapplied();
      if (`${wrongCount(state)}/${left}` !== before) movedAt = Date.now();
    }
    say(`books settled ${wrongCount(state) === '0/0/0/0' ? '' : 'NOT '}(${elapsed()})`);
    const raisedExpected = expected.fundNet + expectedSup.net;

    const ledgerNet = [...state.net.values()].reduce((a, b) => a + b, 0);
    const totals = await db.query<{ shares: string; members: string }>(
      'select coalesce(sum(shares_held), 0)::int8 as shares, count(*) filter (where shares_held > 0)::int8 as members from members where email = any($1::text[])',
      [[...expected.sharesByEmail.keys()]],
    );
    const sharesHeld = Number(totals.rows[0]!.shares);
    const byEmail = await db.query<{ email: string; shares: string }>(
      'select email, sum(shares_held)::int8 as shares from members where email = any($1::text[]) group by email',
      [[...expected.sharesByEmail.keys()]],
    );
    const heldByEmail = new Map(byEmail.rows.map((r) => [r.email, Number(r.shares)]));
    const wrongMembers = [...expected.sharesByEmail].filter(([email, n]) => (heldByEmail.get(email) ?? 0) !== n);

    // The fund's figures on both instances (each caches them for at most 1 s).
    await sleep(1100);
    const raised = await Promise.all(
      instances.map(async (i) => ((await (await fetch(`${i.url}/api/fighting-fund`)).json()) as { raised: number }).raised),
    );

    // Events: none left unapplied, and how long the slowest waited.
    const events = await db.query<{ received: string; unapplied: string; longest_ms: string | null; failures: string }>(
      `select count(*)::int8 as received,
              count(*) filter (where r.event_id is null)::int8 as unapplied,
              (max(extract(epoch from (r.processed_at - e.received_at))) * 1000)::int8 as longest_ms,
              (select count(*) from stripe_event_failures)::int8 as failures
         from stripe_events e left join stripe_event_results r on r.event_id = e.id`,
    );
    const ev = events.rows[0]!;

    // Emails: every one sent, within a few minutes of the end.
    const mailBy = Date.now() + 150_000;
    let unsent = Infinity;
    while (Date.now() < mailBy) {
      unsent = Number((await db.query<{ n: string }>('select count(*)::int8 as n from emails where sent_at is null')).rows[0]!.n);
      if (unsent === 0) break;
      await sleep(1000);
    }
    const mailsSettledAt = elapsed();
    const emails = await db.query<{ message_id: string }>('select message_id from emails where sent_at is not null');
    const arrivals = new Map<string, number>();
    for (const m of smtp.received) if (m.messageId) arrivals.set(m.messageId, (arrivals.get(m.messageId) ?? 0) + 1);
    const sentIds = emails.rows.map((r) => r.message_id);
    const neverArrived = sentIds.filter((id) => !arrivals.has(id));
    const twice = [...arrivals.values()].filter((n) => n > 1).reduce((a, n) => a + n - 1, 0);
    const sentSet = new Set(sentIds);
    const strangers = [...arrivals.keys()].filter((id) => !sentSet.has(id));

    const fmt = (pence: number) => `£${(pence / 100).toLocaleString('en-GB', { minimumFractionDigits: 2 })}`;
    console.log(`
== chaos figures
events made by Stripe        ${figures.eventsMade}
deliveries sent              ${figures.deliveries} (recorded ${figures.deliveriesRecorded}, answered duplicate ${figures.deliveriesDuplicate}, failed and retried ${figures.deliveriesFailed}; ${figures.deliveriesToBoth} sent to both instances at once)
events received / unapplied  ${ev.received} / ${ev.unapplied} (failed attempts retried by a job: ${ev.failures})
longest wait to be applied   ${ev.longest_ms ?? '?'} ms
kills (SIGKILL)              ${figures.kills}
instance restarts            ${figures.instanceRestarts}
PostgreSQL restarts          ${figures.postgresRestarts}
SMTP refusing mail           ${figures.smtpOutageSeconds} s
fund: ledger net             ${fmt(ledgerNet)} (expected ${fmt(expected.fundNet)})
supporters: ledger net        ${fmt(state.supporterNet)} over ${state.supporterPayments} invoice payments (expected ${fmt(expectedSup.net)} over ${expectedSup.paid}; booked twice ${state.bookedTwice.size})
supporters by status          ${Object.entries(expectedSup.byStatus).map(([k, v]) => `${k} ${v}`).join(', ')} (rows not matching Stripe's status, amount or interval: ${state.wrongSupporters.length} of ${expectedSup.rows.size})
supporter invoices wrong      ${state.wrongInvoices.length}
fund: raised on each instance ${raised.map(fmt).join(' / ')} (expected ${fmt(raisedExpected)}: gifts and supporter payments)
gifts not matching Stripe    ${state.wrongGifts.length} of ${donationIds.length}
register: shares held        ${sharesHeld} (expected ${expected.sharesTotal}; ${expected.sharesPaidFor} paid for, the rest refunded or lost in disputes)
allotments not matching      ${state.wrongAllotments.length} of ${applicationIds.length}; members not matching ${wrongMembers.length} of ${expected.sharesByEmail.size}
emails sent                  ${sentIds.length} (unsent at the end ${unsent}; never arrived ${neverArrived.length}; arrived twice with the same Message-ID ${twice}; arrived but not recorded as sent ${strangers.length})
emails all sent after        ${mailsSettledAt}
time                         ${elapsed()} (the issue's budget: 300 s on a 2-core machine of its own)
`);

    if (state.wrongGifts.length > 0) failures.push(`${state.wrongGifts.length} donations' ledger net differs from Stripe, e.g. ${state.wrongGifts.slice(0, 3).map((id) => `${id}: ${state.net.get(id) ?? 0} vs ${expected.donationNet.get(id)}`).join(', ')}`);
    if (state.wrongAllotments.length > 0) failures.push(`${state.wrongAllotments.length} applications' shares differ from Stripe, e.g. ${state.wrongAllotments.slice(0, 3).map((id) => `${id}: ${state.shares.get(id) ?? 0} vs ${expected.applicationShares.get(id)}`).join(', ')}`);
    if (ledgerNet !== expected.fundNet) failures.push(`ledger net ${ledgerNet} != expected ${expected.fundNet}`);
    if (raised.some((r) => r !== raisedExpected)) failures.push(`the instances show raised ${raised.join(' / ')}, expected ${raisedExpected}`);
    if (state.wrongSupporters.length > 0) failures.push(`${state.wrongSupporters.length} supporters differ from Stripe, e.g. ${state.wrongSupporters.slice(0, 3).map(([id, want]) => `${id}: ${JSON.stringify(state.got.get(id) ?? null)}, Stripe says ${JSON.stringify(want)}`).join(', ')}`);
    if (state.wrongInvoices.length > 0) failures.push(`${state.wrongInvoices.length} supporter invoices' ledger net differs from Stripe, e.g. ${state.wrongInvoices.slice(0, 3).join(', ')}`);
    if (state.bookedTwice.size > 0) failures.push(`${state.bookedTwice.size} supporter invoices booked more than once`);
    if (state.supporterNet !== expectedSup.net) failures.push(`supporter ledger net ${state.supporterNet} != expected ${expectedSup.net}`);
    if (sharesHeld !== expected.sharesTotal) failures.push(`shares held ${sharesHeld} != expected ${expected.sharesTotal}`);
    if (wrongMembers.length > 0) failures.push(`${wrongMembers.length} members hold the wrong number of shares`);
    if (Number(ev.unapplied) > 0) failures.push(`${ev.unapplied} events received but never applied`);
    if (unsent > 0) failures.push(`${unsent} emails still unsent 150 s after the end`);
    if (neverArrived.length > 0) failures.push(`${neverArrived.length} emails marked sent never reached the SMTP server`);
    if (figures.kills < 1 || figures.postgresRestarts < 1) failures.push('the faults did not all happen');
  } finally {
    await db.end();
  }
  return failures;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('chaos run crashed:', err);
    process.exit(2);
  },
);
