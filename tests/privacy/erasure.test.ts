/** POST /api/me/erasure erases: what it says is gone is gone from every table, the public pages included. */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactAppliedStripeEvents } from '../../src/payments/payload-redaction.service.js';
import { startDonation } from '../payments/payment-helpers.js';
import { buyShares, memberByEmail, personApplication } from '../shares/shares-helpers.js';
import { signInAs } from '../support/auth.js';
import { becomeSupporter } from '../supporters/supporter-helpers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.org`;
/** A word no other test (or Stripe fixture) contains. */
const word = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;

/** Every row of every table, in every schema (graphile_worker's included), whose text contains `needle`: "schema.table" -> count. */
async function tablesContaining(app: TestApp, needle: string): Promise<Record<string, number>> {
  const { rows: tables } = await sql<{ schema: string; name: string }>`
    select table_schema as schema, table_name as name from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`.execute(app.db);
  expect(tables.some((t) => t.schema === 'graphile_worker')).toBe(true);
  const found: Record<string, number> = {};
  for (const t of tables) {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from ${sql.table(`${t.schema}.${t.name}`)} as r
       where position(lower(${needle}::text) in lower(r::text)) > 0`.execute(app.db);
    if (rows[0]!.n > 0) found[`${t.schema}.${t.name}`] = rows[0]!.n;
  }
  return found;
}

describe('erasure', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T12:00:00Z' });
  });
  afterAll(() => app.close());

  it('when a donor thanked by name asks for erasure, then the acknowledgements and the home page no longer name them, and the fund keeps the amount', async () => {
    const email = unique('thanked');
    const name = `Thea Thanked ${randomUUID().slice(0, 6)}`;
    const d = await startDonation(app, { amount: 2500, email, name, town: 'Whitby', acknowledge: true });
    await app.stripe.pay(d.sessionId);
    const named = await app.request('GET', '/api/fighting-fund/acknowledgements');
    expect(named.body).toContainEqual(expect.objectContaining({ name, town: 'Whitby', amount: 2500 }));
    const raisedBefore = (await app.request('GET', '/api/fighting-fund')).body.raised;

    const { headers } = await signInAs(app, { email });
    expect((await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers })).status).toBe(200);

    const after = await app.request('GET', '/api/fighting-fund/acknowledgements');
    expect(JSON.stringify(after.body)).not.toContain(name);
    expect((await app.request('GET', '/')).text).not.toContain(name);
    expect((await app.request('GET', '/api/fighting-fund')).body.raised).toBe(raisedBefore);
    const entries = await app.db.selectFrom('ledger_entries').selectAll().where('donation_id', '=', d.donationId).execute();
    expect(entries.map((e) => [e.amount, e.acknowledged])).toEqual([[2500, true]]);
  });

  it('when a supporter thanked by name, whose subscription has ended, asks for erasure, then no acknowledgement names them and the fund keeps their payment', async () => {
    const email = unique('thanked-supporter');
    const name = `Sally Supporter ${randomUUID().slice(0, 6)}`;
    const { headers } = await signInAs(app, { email });
    const started = await becomeSupporter(app, { email, name, acknowledge: true }, headers);
    const named = await app.request('GET', '/api/fighting-fund/acknowledgements');
    expect(JSON.stringify(named.body)).toContain(name);
    await app.stripe.sandbox.cancelSubscription(started.subscriptionId);
    await app.stripe.idle();
    await app.drainStripeEvents();
    const raisedBefore = (await app.request('GET', '/api/fighting-fund')).body.raised;

    const erased = await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers });
    expect(erased.status, erased.text).toBe(200);

    expect(JSON.stringify((await app.request('GET', '/api/fighting-fund/acknowledgements')).body)).not.toContain(name);
    expect((await app.request('GET', '/')).text).not.toContain(name);
    expect((await app.request('GET', '/api/fighting-fund')).body.raised).toBe(raisedBefore);
    expect(await tablesContaining(app, name)).toEqual({});
  });

  it('when a reader opens the donate form, then it says the amount is shown with the name of a donor thanked by name', async () => {
    const page = await app.request('GET', '/donate');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/show the amount you give beside them/);
  });

  it('when a donor asks for erasure, then no table in any schema holds their name, email, address or town any more', async () => {
    const email = unique(word('zed')).toLowerCase();
    const name = `Zelda ${word('Quarrington')}`;
    const line1 = `${word('')} Quillwort Yard`;
    const town = word('Quillbury');
    const postcode = `QX${randomBytes(1).toString('hex')} 9ZZ`;
    // A sign-in link sent before the person record existed, a named gift paid through Stripe and refunded in part,
    // a change of details (audited), a signed-in session: everything that writes about a person.
    expect((await app.request('POST', '/api/auth/login', { json: { email } })).status).toBe(202);
    const d = await startDonation(app, { amount: 3000, email, name, town, acknowledge: true });
    await app.stripe.pay(d.sessionId);
    const { personId, headers } = await signInAs(app, { email });
    const changed = await app.request('PATCH', '/api/me', { json: { name, postalAddress: { line1, town, postcode, country: 'GB' } }, headers });
    expect(changed.status).toBe(200);
    for (const needle of [email, name, line1, town]) expect(Object.keys(await tablesContaining(app, needle)), needle).not.toEqual([]);

    const res = await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers });
    expect(res.status, res.text).toBe(200);

    for (const needle of [email, name, line1, town, postcode]) {
      expect(await tablesContaining(app, needle), needle).toEqual({});
    }
    // The money stays, without the name.
    const entries = await app.db.selectFrom('ledger_entries').select(['amount', 'kind']).where('donation_id', '=', d.donationId).execute();
    expect(entries).toEqual([{ amount: 3000, kind: 'online_donation' }]);
    expect((await app.db.selectFrom('people').select('erased_at').where('id', '=', personId).executeTakeFirstOrThrow()).erased_at).not.toBeNull();
  });

  it('when a member asks for erasure, then only the register of members (and the applications that made them a member) keeps their name and address, and nothing keeps their email but the register', async () => {
    const email = unique(word('mem')).toLowerCase();
    const name = `Mabel ${word('Registerson')}`;
    const application = personApplication(5, { email, name });
    await buyShares(app, application);
    const member = (await memberByEmail(app, email))!;
    const { headers } = await signInAs(app, { email });
    expect((await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers })).status).toBe(200);

    expect(Object.keys(await tablesContaining(app, name)).sort()).toEqual(['public.members', 'public.share_applications']);
    expect(Object.keys(await tablesContaining(app, email))).toEqual(['public.members']);
    expect(await app.db.selectFrom('members').select(['name', 'email']).where('id', '=', member.id).executeTakeFirstOrThrow()).toEqual({ name, email });
  });

  it('when a Stripe event has been applied, then the periodic job removes its personal fields and keeps the ids that link it to our records', async () => {
    const email = unique(word('evt')).toLowerCase();
    const d = await startDonation(app, { amount: 1200, email });
    await app.stripe.pay(d.sessionId);
    expect(await tablesContaining(app, email)).toHaveProperty(['public.stripe_events']);

    expect(await redactAppliedStripeEvents(app.deps)).toBeGreaterThan(0);

    expect(await tablesContaining(app, email)).not.toHaveProperty(['public.stripe_events']);
    const events = await app.db.selectFrom('stripe_events').select(['payload', 'redacted_at']).where(sql<boolean>`payload::text like ${`%${d.sessionId}%`}`).execute();
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      expect(e.redacted_at).not.toBeNull();
      expect(JSON.stringify(e.payload)).toContain(d.donationId);
    }
    // Still append-only for anything but that one redaction.
    await expect(sql`update stripe_events set type = 'x' where redacted_at is not null`.execute(app.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from stripe_events where redacted_at is not null`.execute(app.db)).rejects.toThrow(/append-only/);
  });

  it('when a person exports their data, then the sign-in links of past emails are not in it', async () => {
    const email = unique('export');
    expect((await app.request('POST', '/api/auth/login', { json: { email } })).status).toBe(202);
    const { headers, personId } = await signInAs(app, { email });
    await app.db.updateTable('emails').set({ person_id: personId }).where('to_address', '=', email).execute();
    const mail = await app.db.selectFrom('emails').select('text').where('to_address', '=', email).executeTakeFirstOrThrow();
    const token = /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1]!;

    const res = await app.request('GET', '/api/me/export', { headers });
    expect(res.status).toBe(200);
    expect(res.body.emailsSentToYou).toHaveLength(1);
    expect(res.text).not.toContain(token);
    expect(res.body.emailsSentToYou[0].text).toContain('token=(removed)');
  });
});
