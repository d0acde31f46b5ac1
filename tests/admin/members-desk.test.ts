/**
 * The board's desk: member search and a member's page, a change of name and
 * address by letter for an organisation (the register follows, audited without
 * the values), withdrawals decided from the queue with an email to the member at
 * each decision, people and roles (admin only), and the audit log's filters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { buyShares, emailsTo, memberByEmail, organisationApplication, personApplication, uniqueEmail } from '../shares/shares-helpers.js';

const html = { accept: 'text/html' };

describe('the board desk pages', () => {
  let app: TestApp;
  let treasurer: Record<string, string>;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-25T12:00:00Z', env: { MIN_SHARES: '1', WITHDRAWAL_NOTICE_DAYS: '90' } });
    treasurer = { ...(await signInAs(app, { email: uniqueEmail('treasurer'), roles: ['treasurer'] })).headers, ...html };
  });
  afterAll(() => app.close());

  it('when the treasurer searches by postcode and opens the member, then the page shows the entry, holding and transactions', async () => {
    const email = uniqueEmail('member');
    await buyShares(app, personApplication(30, { email, name: 'Rosa Printer', postcode: 'HU1 2AB' }));
    const member = (await memberByEmail(app, email))!;
    const found = await app.request('GET', '/admin/members?query=hu12ab', { headers: treasurer });
    expect(found.status).toBe(200);
    expect(found.text).toContain('Rosa Printer');
    const page = await app.request('GET', `/admin/members/${member.number}`, { headers: treasurer });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Rosa Printer');
    expect(page.text).toMatch(/Shares held<\/th><td>30</);
    expect(page.text).toContain('allotment');
    expect((await app.request('GET', '/admin/members/999999', { headers: treasurer })).status).toBe(404);
  });

  it('when a letter changes an organisation member’s name and address, then the register entry follows and the audit says which fields, not their values', async () => {
    const email = uniqueEmail('branch');
    await buyShares(app, organisationApplication(50, { email, name: 'Hull Trades Council' }));
    const member = (await memberByEmail(app, email))!;
    const res = await app.request('POST', `/admin/members/${member.number}/details`, {
      headers: treasurer,
      form: { source: 'letter of 20 November 2026', name: 'Hull & District Trades Council', line1: '5 Dock Street', town: 'Hull', postcode: 'HU1 1AA', country: 'United Kingdom' },
    });
    expect(res.status).toBe(303);
    const after = (await memberByEmail(app, email))!;
    expect(after).toMatchObject({ name: 'Hull & District Trades Council', address_line1: '5 Dock Street', address_line2: null, town: 'Hull', postcode: 'HU1 1AA', kind: 'organisation' });
    const audit = await app.db.selectFrom('audit_log').selectAll().where('action', '=', 'member.details_changed').where('subject_id', '=', String(member.number)).executeTakeFirstOrThrow();
    expect(audit.after).toMatchObject({ source: 'letter of 20 November 2026', kind: 'organisation' });
    expect((audit.after as { fields: string[] }).fields).toEqual(expect.arrayContaining(['name', 'address_line1', 'address_line2', 'postcode']));
    expect(JSON.stringify(audit.after)).not.toContain('Dock Street');
    const csv = await app.request('GET', '/api/admin/register.csv', { headers: treasurer });
    expect(csv.text).toContain('Hull & District Trades Council');

    const incomplete = await app.request('POST', `/admin/members/${member.number}/details`, { headers: treasurer, form: { source: 'letter', line1: 'Only a street' } });
    expect(incomplete.status).toBe(400);
    expect(incomplete.text).toContain('A new address needs');
  });

  it('when the treasurer approves, defers and pays withdrawals from the queue, then each decision emails the member', async () => {
    const email = uniqueEmail('leaver');
    await buyShares(app, personApplication(100, { email, name: 'Wendy Leaver' }));
    const { headers } = await signInAs(app, { email });
    const asked = await app.request('POST', '/api/me/share-withdrawals', { headers, json: { shares: 40 } });
    expect(asked.status).toBe(202);
    const id = asked.body.id as string;

    const queue = await app.request('GET', '/admin/withdrawals', { headers: treasurer });
    expect(queue.text).toContain('Wendy Leaver');
    expect(queue.text).toContain('90 days to go');
    const before = (await emailsTo(app, email)).length;

    // A second between decisions: the emails are compared in the order they were queued (created_at).
    app.clock.advance(1000);
    expect((await app.request('POST', `/admin/withdrawals/${id}/defer`, { headers: treasurer, form: { note: 'board 1 Dec' } })).status).toBe(303);
    app.clock.advance(1000);
    expect((await app.request('POST', `/admin/withdrawals/${id}/approve`, { headers: treasurer, form: {} })).status).toBe(303);
    const notYet = await app.request('POST', `/admin/withdrawals/${id}/approve`, { headers: treasurer, form: {} });
    expect(notYet.status).toBe(409);
    app.clock.advance(1000);
    expect((await app.request('POST', `/admin/withdrawals/${id}/paid`, { headers: treasurer, form: { note: 'BACS 123' } })).status).toBe(303);

    const mails = (await emailsTo(app, email)).slice(before);
    expect(mails.map((m) => m.subject)).toEqual([
      expect.stringMatching(/deferred/),
      expect.stringMatching(/approved/),
      expect.stringMatching(/withdrawn and paid/),
    ]);
    expect(mails[2]!.text).toContain('£40.00 has been paid');
    expect(mails.every((m) => m.template === 'shares/withdrawal-decision')).toBe(true);

    app.clock.advance(1000);
    const rejectMe = (await app.request('POST', '/api/me/share-withdrawals', { headers, json: { shares: 10 } })).body.id as string;
    app.clock.advance(1000);
    expect((await app.request('POST', `/admin/withdrawals/${rejectMe}/reject`, { headers: treasurer, form: {} })).status).toBe(303);
    expect((await emailsTo(app, email)).at(-1)!.subject).toMatch(/not approved/);
  });

  it('when a treasurer opens people and roles, then 403; an admin grants and revokes the treasurer role there', async () => {
    expect((await app.request('GET', '/admin/people', { headers: treasurer })).status).toBe(403);
    const admin = { ...(await signInAs(app, { email: uniqueEmail('admin'), roles: ['admin'] })).headers, ...html };
    const someone = await signInAs(app, { email: uniqueEmail('helper') });
    const granted = await app.request('POST', `/admin/people/${someone.personId}/roles/treasurer/grant`, { headers: admin, form: {} });
    expect(granted.status).toBe(303);
    const listed = await app.request('GET', '/admin/people', { headers: admin });
    expect(listed.text).toContain('Remove treasurer');
    const person = await app.db.selectFrom('people').select('roles').where('id', '=', someone.personId).executeTakeFirstOrThrow();
    expect(person.roles).toEqual(['treasurer']);
    expect((await app.request('POST', `/admin/people/${someone.personId}/roles/treasurer/revoke`, { headers: admin, form: {} })).status).toBe(303);
  });

  it('when the audit log is filtered by actor, subject and action, then only those entries show', async () => {
    const email = uniqueEmail('auditor');
    const me = { ...(await signInAs(app, { email, roles: ['treasurer'] })).headers, ...html };
    const gift = await app.request('POST', '/api/admin/ledger', { headers: me, json: { amount: 500, method: 'cash', reference: `tin ${email}`, givenAt: '2026-11-24T10:00:00Z' } });
    expect(gift.status).toBe(201);
    const byActor = await app.request('GET', `/admin/audit?actor=${encodeURIComponent(email.toUpperCase())}`, { headers: treasurer });
    expect(byActor.text).toContain('ledger.offline_gift_recorded');
    expect(byActor.text).not.toContain('member.details_changed');
    const bySubject = await app.request('GET', `/admin/audit?subjectType=ledger_entry&subjectId=${gift.body.id}&action=ledger.`, { headers: treasurer });
    expect(bySubject.text).toContain(`ledger_entry ${gift.body.id}`);
    const none = await app.request('GET', '/admin/audit?action=nothing.like_this', { headers: treasurer });
    expect(none.text).not.toContain('ledger.offline_gift_recorded');
    expect((await app.request('GET', '/admin/audit?action=DROP%20TABLE', { headers: treasurer })).status).toBe(400);
  });
});
