import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDonation } from '../payments/payment-helpers.js';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}@example.org`;
const address = { line1: '2 Print Row', town: 'Leeds', postcode: 'LS1 2AB', country: 'GB' };

describe('the signed-in person\'s account', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T12:00:00Z' });
  });
  afterAll(() => app.close());

  const personRow = (id: string) => app.db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const auditOf = (id: string) => app.db.selectFrom('audit_log').selectAll().where('subject_id', '=', id).orderBy('id').execute();

  it('answers 401 to every account route without a session', async () => {
    for (const [method, path] of [
      ['GET', '/api/me'],
      ['PATCH', '/api/me'],
      ['GET', '/api/me/export'],
      ['POST', '/api/me/erasure'],
      ['POST', '/api/auth/logout-everywhere'],
    ] as const) {
      const res = await app.request(method, path, method === 'GET' ? {} : { json: {} });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe('unauthenticated');
    }
  });

  it('when a person changes their name, address and email preferences, then it is saved and audited by the fields changed, without their values', async () => {
    const { personId, headers } = await signInAs(app, { email: unique('details') });
    const res = await app.request('PATCH', '/api/me', {
      json: { name: '  Ann Lee ', postalAddress: address, emailPreferences: { fundAppeals: true } },
      headers,
    });
    expect(res.status).toBe(200);
    expect(res.body.person).toMatchObject({
      id: personId,
      name: 'Ann Lee',
      postalAddress: { ...address, line2: null },
      emailPreferences: { fundAppeals: true, societyNews: false },
    });
    const row = await personRow(personId);
    expect(row.name).toBe('Ann Lee');
    expect(row.postal_address).toEqual({ ...address, line2: null });

    // Preferences merge: changing one keeps the other.
    const second = await app.request('PATCH', '/api/me', { json: { emailPreferences: { societyNews: true } }, headers });
    expect(second.body.person.emailPreferences).toEqual({ fundAppeals: true, societyNews: true });

    const audit = await auditOf(personId);
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({
      action: 'person.details_changed',
      actor_id: personId,
      subject_type: 'person',
      // Which fields changed, never their values: the log is append-only, and erasure must leave nothing in it.
      before: null,
      after: { fields: ['emailPreferences', 'name', 'postalAddress'] },
    });
    expect(JSON.stringify(audit)).not.toMatch(/Ann Lee|Print Row|LS1 2AB/);
    expect(audit[0]!.at.toISOString()).toBe('2026-11-20T12:00:00.000Z');

    // A change to nothing is not an audit entry.
    await app.request('PATCH', '/api/me', { json: { name: 'Ann Lee' }, headers });
    expect(await auditOf(personId)).toHaveLength(2);
  });

  it('refuses malformed changes with 400 and changes nothing', async () => {
    const { personId, headers } = await signInAs(app, { email: unique('malformed') });
    for (const json of [
      { name: 42 },
      { name: '' },
      { postalAddress: { line1: 'x' } },
      { emailPreferences: { fundAppeals: 'yes' } },
      { email: 'new@example.org' },
      { roles: ['admin'] },
    ]) {
      const res = await app.request('PATCH', '/api/me', { json, headers });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const row = await personRow(personId);
    expect(row).toMatchObject({ name: null, postal_address: null, roles: [] });
    expect(await auditOf(personId)).toHaveLength(0);
  });

  it("when one person tries to read or change another's data, then they cannot", async () => {
    const victim = await signInAs(app, { email: unique('victim'), name: 'Victim' });
    const attacker = await signInAs(app, { email: unique('attacker') });
    const byId = await app.request('PATCH', '/api/me', { json: { id: victim.personId, name: 'Owned' }, headers: attacker.headers });
    expect(byId.status).toBe(400);
    expect((await app.request('GET', `/api/admin/people/${victim.personId}`, { headers: attacker.headers })).status).toBe(403);
    expect((await app.request('GET', `/api/me?id=${victim.personId}`, { headers: attacker.headers })).body.person.id).toBe(attacker.personId);
    const exported = await app.request('GET', '/api/me/export', { headers: attacker.headers });
    expect(exported.text).not.toContain(victim.personId);
    expect((await personRow(victim.personId)).name).toBe('Victim');
  });

  it('shows a sign-in form on /account when signed out, and the details form and gifts when signed in', async () => {
    const signedOut = await app.request('GET', '/account', { headers: { accept: 'text/html' } });
    expect(signedOut.status).toBe(200);
    expect(signedOut.text).toContain('action="/api/auth/login"');
    // The sign-in form posts and gets a page back, not JSON.
    const asked = await app.request('POST', '/api/auth/login', { form: { email: unique('form-login') }, headers: { accept: 'text/html', 'x-forwarded-for': '192.0.2.9' } });
    expect(asked.status).toBe(202);
    expect(asked.text).toContain('Check your email');
    const typo = await app.request('POST', '/api/auth/login', { form: { email: 'no-at-sign' }, headers: { accept: 'text/html', 'x-forwarded-for': '192.0.2.9' } });
    expect(typo.status).toBe(400);
    expect(typo.headers.get('content-type')).toContain('text/html');
    expect(typo.text).toContain('action="/api/auth/login"');

    const email = unique('page');
    const { headers } = await signInAs(app, { email, name: 'Page <b>Reader</b>' });
    const page = await app.request('GET', '/account', { headers: { ...headers, accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('action="/account/details"');
    expect(page.text).toContain('value="Page &lt;b&gt;Reader&lt;/b&gt;"');
    expect(page.text).toContain('No gifts yet');

    // Half an address is refused with the form again.
    const bad = await app.request('POST', '/account/details', { form: { name: 'Page Reader', line1: '1 Road' }, headers: { ...headers, accept: 'text/html' } });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Please fill this in, or leave the whole address empty.');
    const good = await app.request('POST', '/account/details', {
      form: { name: 'Page Reader', ...address, line2: '', fundAppeals: 'on' },
      headers: { ...headers, accept: 'text/html' },
    });
    expect(good.status).toBe(303);
    expect(good.headers.get('location')).toBe('/account?saved=1');
    const me = await app.request('GET', '/api/me', { headers });
    expect(me.body.person).toMatchObject({ name: 'Page Reader', postalAddress: { ...address, line2: null }, emailPreferences: { fundAppeals: true, societyNews: false } });
  });

  it('lets a person download everything held about them as JSON', async () => {
    const email = unique('export');
    const d = await startDonation(app, { amount: 1500, email, name: 'Exporting Ed' });
    await app.stripe.pay(d.sessionId);
    const { personId, headers } = await signInAs(app, { email });
    await app.request('PATCH', '/api/me', { json: { postalAddress: address }, headers });

    const res = await app.request('GET', '/api/me/export', { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="reader-coop-my-data-2026-11-20.json"');
    const data = JSON.parse(res.text);
    expect(data.person).toMatchObject({ id: personId, email, name: 'Exporting Ed' });
    expect(data.donations).toEqual([expect.objectContaining({ id: d.donationId, amount: 1500, email, name: 'Exporting Ed', status: 'paid' })]);
    expect(data.emailsSentToYou).toEqual([expect.objectContaining({ template: 'donation-receipt', to: email })]);
    expect(data.changesToYourRecord).toEqual([expect.objectContaining({ action: 'person.details_changed' })]);
    expect(data).toMatchObject({ member: null, shares: { held: 0, paid: 0, transactions: [] }, supporter: null });
  });

  it('when a person asks for erasure, then their details go, the register and the ledger amounts stay, and they are signed out', async () => {
    const email = unique('erase');
    const d = await startDonation(app, { amount: 2000, email, name: 'Erin Erased', town: 'Hull', acknowledge: true });
    await app.stripe.pay(d.sessionId);
    const { personId, headers } = await signInAs(app, { email });
    await app.request('PATCH', '/api/me', { json: { postalAddress: address }, headers });

    expect((await app.request('POST', '/api/me/erasure', { json: {}, headers })).status).toBe(400);

    const res = await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers });
    expect(res.status).toBe(200);
    expect(res.body.message).toContain('The register of members must be kept');
    expect(res.body.kept.join(' ')).toContain('register of members');
    expect(res.headers.get('set-cookie')).toMatch(/^session=; /);

    const row = await personRow(personId);
    expect(row).toMatchObject({ name: null, postal_address: null, email: `erased-${personId}@erased.invalid`, roles: [] });
    expect(row.erased_at).not.toBeNull();
    const donation = await app.db.selectFrom('donations').selectAll().where('id', '=', d.donationId).executeTakeFirstOrThrow();
    expect(donation).toMatchObject({ email: `erased-${personId}@erased.invalid`, name: null, town: null, amount: 2000, status: 'paid' });
    const ledger = await app.db.selectFrom('ledger_entries').selectAll().where('donation_id', '=', d.donationId).execute();
    expect(ledger.map((e) => e.amount)).toEqual([2000]);
    const emails = await app.db.selectFrom('emails').selectAll().where('person_id', '=', personId).execute();
    expect(emails.every((e) => e.html === '' && e.text === '' && !e.to_address.includes(email))).toBe(true);
    const audit = await auditOf(personId);
    expect(audit.at(-1)).toMatchObject({ action: 'person.erased', before: null });
    expect(JSON.stringify(audit.at(-1)!.after)).not.toContain('Erin');

    expect((await app.request('GET', '/api/me', { headers })).status).toBe(401);
    // Signing in again with the address starts afresh.
    const again = await signInAs(app, { email });
    expect(again.personId).not.toBe(personId);
  });

  it('refuses erasure by the only admin', async () => {
    const { headers, personId } = await signInAs(app, { email: unique('only-admin'), roles: ['admin'] });
    // Nobody else in this test app's database is an admin.
    expect(await app.db.selectFrom('people').select('id').where(sql<boolean>`'admin' = any(roles)`).execute()).toEqual([{ id: personId }]);
    const res = await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('last_admin');
    expect((await personRow(personId)).erased_at).toBeNull();
  });
});
