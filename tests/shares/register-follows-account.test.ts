/**
 * The seams between a person's account (src/members) and the shares component:
 * the register follows a member's own changes to their details, erasure erases
 * what it may from share applications and keeps the register, and the data
 * export holds the person's shares records.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireStaleApplications } from '../../src/shares/applications.service.js';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { NOW, applicationRow, applyOk, buyShares, memberByEmail, organisationApplication, personApplication, transactionsOf, uniqueEmail } from './shares-helpers.js';

const newAddress = { line1: '9 Compositor Lane', line2: 'Flat 2', town: 'Bradford', postcode: 'BD1 1XX', country: 'United Kingdom' };

describe('the register follows the account, and erasure keeps the register', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  const auditWhere = (action: string, subjectId: string) =>
    app.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('subject_id', '=', subjectId).orderBy('id').execute();

  async function registerCsv(): Promise<string[]> {
    const { headers } = await signInAs(app, { email: uniqueEmail('treasurer'), roles: ['treasurer'] });
    const res = await app.request('GET', '/api/admin/register.csv', { headers });
    expect(res.status).toBe(200);
    return res.text.trimEnd().split('\n');
  }
  const registerLineOf = (lines: string[], number: number) => lines.find((l) => l.startsWith(`${number},`));

  it('when a member changes their name and address through PATCH /api/me, then the register shows them and both records are audited once', async () => {
    const email = uniqueEmail('mover');
    await buyShares(app, personApplication(20, { email, name: 'Mo Mover' }));
    const member = (await memberByEmail(app, email))!;
    const { personId, headers } = await signInAs(app, { email });

    const res = await app.request('PATCH', '/api/me', { json: { name: 'Mo Moved', postalAddress: newAddress }, headers: { ...headers, 'x-request-id': 'move-1' } });
    expect(res.status).toBe(200);
    expect(res.body.member).toMatchObject({ number: member.number, name: 'Mo Moved', address: newAddress });

    expect(registerLineOf(await registerCsv(), member.number)).toBe(
      `${member.number},Mo Moved,person,no,9 Compositor Lane,Flat 2,Bradford,BD1 1XX,United Kingdom,${email},20,2000,GBP,2026-11-25,`,
    );
    // Two records changed (the account and the register entry): one audit entry each, tied by the request id.
    const personAudit = await auditWhere('person.details_changed', personId);
    const memberAudit = await auditWhere('member.details_changed', String(member.number));
    expect(personAudit).toHaveLength(1);
    expect(memberAudit).toHaveLength(1);
    expect(memberAudit[0]).toMatchObject({
      actor_id: personId,
      subject_type: 'member',
      request_id: 'move-1',
      // Which fields changed, never their values: the log is append-only.
      before: null,
      after: { fields: ['address_line1', 'address_line2', 'name', 'postcode', 'town'] },
    });
    expect(JSON.stringify([personAudit, memberAudit])).not.toMatch(/Mo Mover|Mo Moved|Print Street|Compositor|Bradford|BD1 1XX/);
    expect(personAudit[0]!.request_id).toBe('move-1');
    // Nothing else about the member changed.
    expect(await memberByEmail(app, email)).toMatchObject({ id: member.id, number: member.number, email, shares_held: 20, amount_paid: 2000, admitted_on: member.admitted_on });

    // Only the email preferences: the register has nothing to follow, and nothing is audited for it.
    expect((await app.request('PATCH', '/api/me', { json: { emailPreferences: { societyNews: true } }, headers })).status).toBe(200);
    expect(await auditWhere('member.details_changed', String(member.number))).toHaveLength(1);
    // Clearing the address on the account leaves the register's (it must always hold one).
    expect((await app.request('PATCH', '/api/me', { json: { postalAddress: null }, headers })).status).toBe(200);
    expect(await memberByEmail(app, email)).toMatchObject({ address_line1: '9 Compositor Lane', town: 'Bradford' });
    expect(await auditWhere('member.details_changed', String(member.number))).toHaveLength(1);
  });

  it('when a member changes their address on the /account form, then the register follows', async () => {
    const email = uniqueEmail('formmover');
    await buyShares(app, personApplication(5, { email, name: 'Fay Form' }));
    const { headers } = await signInAs(app, { email });
    const res = await app.request('POST', '/account/details', {
      form: { name: 'Fay Form', line1: '3 Press Yard', line2: '', town: 'York', postcode: 'YO1 9ZZ', country: 'United Kingdom' },
      headers: { ...headers, accept: 'text/html' },
    });
    expect(res.status).toBe(303);
    const member = (await memberByEmail(app, email))!;
    expect(member).toMatchObject({ name: 'Fay Form', address_line1: '3 Press Yard', address_line2: null, town: 'York', postcode: 'YO1 9ZZ' });
    expect(registerLineOf(await registerCsv(), member.number)).toContain(',Fay Form,person,no,3 Press Yard,,York,YO1 9ZZ,');
  });

  it("when an organisation's contact changes their own name and address, then the organisation's register entry stays", async () => {
    const email = uniqueEmail('branch');
    await buyShares(app, organisationApplication(50, { email, name: 'Bradford Print Branch' }));
    const before = (await memberByEmail(app, email))!;
    const { personId, headers } = await signInAs(app, { email });
    const res = await app.request('PATCH', '/api/me', { json: { name: 'Sam Secretary', postalAddress: newAddress }, headers });
    expect(res.status).toBe(200);
    expect(res.body.person).toMatchObject({ name: 'Sam Secretary', postalAddress: newAddress });
    expect(await memberByEmail(app, email)).toEqual(before);
    expect(await auditWhere('member.details_changed', String(before.number))).toHaveLength(0);
    expect(await auditWhere('person.details_changed', personId)).toHaveLength(1);
  });

  it('when someone who is not a member changes their details, then it works and the register is untouched', async () => {
    const email = uniqueEmail('nonmember');
    const { personId, headers } = await signInAs(app, { email });
    const membersBefore = await app.db.selectFrom('members').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    const res = await app.request('PATCH', '/api/me', { json: { name: 'Nell Nonmember', postalAddress: newAddress }, headers });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ person: { name: 'Nell Nonmember' }, member: null });
    expect(await app.db.selectFrom('members').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).toEqual(membersBefore);
    expect(await app.db.selectFrom('members').selectAll().where('person_id', '=', personId).execute()).toEqual([]);
    expect(await auditWhere('person.details_changed', personId)).toHaveLength(1);
  });

  it('when a person whose application expired asks for erasure, then its personal details go and its accounting record stays', async () => {
    const email = uniqueEmail('lapsed');
    const applied = await applyOk(app, personApplication(30, { email, name: 'Lorna Lapsed', dateOfBirth: '1990-02-03' }));
    await app.stripe.expire(applied.sessionId);
    const { personId, headers } = await signInAs(app, { email });

    const res = await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.message).toContain('The register of members must be kept');
    expect(res.body.erased.join(' ')).toContain('date of birth on 1 share application(s) that did not lead to shares');

    const row = await applicationRow(app, applied.id);
    expect(row).toMatchObject({
      name: '[erased]',
      email: `erased-${personId}@erased.invalid`,
      address_line1: '[erased]',
      address_line2: null,
      town: '[erased]',
      postcode: '[erased]',
      country: '[erased]',
      date_of_birth: null,
      // The accounting record stays.
      status: 'expired',
      shares: 30,
      amount: 3000,
      person_id: personId,
    });
    expect(row.erased_at).not.toBeNull();
    expect(JSON.stringify(row)).not.toContain('Lorna');
    expect(JSON.stringify(row)).not.toContain('1990');
    const erasedAudit = await auditWhere('person.erased', personId);
    expect(erasedAudit).toHaveLength(1);
    expect(erasedAudit[0]!.after).toMatchObject({ shareApplicationsErased: 1, allottedShareApplicationsErased: 0, registerEntriesKept: [] });
  });

  it("when a member asks for erasure, then their register entry and share transactions stay exactly as they were, and the answer says why", async () => {
    const email = uniqueEmail('keeper');
    const bought = await buyShares(app, personApplication(40, { email, name: 'Kit Keeper', dateOfBirth: '1975-06-30' }));
    const lapsed = await applyOk(app, personApplication(10, { email, name: 'Kit Keeper' }));
    await app.stripe.expire(lapsed.sessionId);
    const member = (await memberByEmail(app, email))!;
    const transactions = await transactionsOf(app, member.id);
    const registerLine = registerLineOf(await registerCsv(), member.number);
    const { personId, headers } = await signInAs(app, { email });

    const res = await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.message).toContain('The register of members must be kept');
    expect(res.body.kept.join(' ')).toContain('your entry in the register of members');
    expect(res.body.erased).toEqual(
      expect.arrayContaining([
        'your name, postal address, email address and date of birth on 1 share application(s) that did not lead to shares',
        'your date of birth and email address on 1 share application(s) under which shares were allotted',
      ]),
    );

    // The register entry is untouched: every column, and the exported line.
    expect(await app.db.selectFrom('members').selectAll().where('id', '=', member.id).executeTakeFirstOrThrow()).toEqual(member);
    expect(await transactionsOf(app, member.id)).toEqual(transactions);
    expect(registerLineOf(await registerCsv(), member.number)).toBe(registerLine);
    // The application that admitted them keeps the name and address the entry was made from; not the date of birth.
    expect(await applicationRow(app, bought.id)).toMatchObject({
      status: 'allotted',
      name: 'Kit Keeper',
      address_line1: '1 Print Street',
      date_of_birth: null,
      email: `erased-${personId}@erased.invalid`,
    });
    expect(await applicationRow(app, lapsed.id)).toMatchObject({ status: 'expired', name: '[erased]', date_of_birth: null });
    const erasedAudit = await auditWhere('person.erased', personId);
    expect(erasedAudit[0]!.after).toMatchObject({ shareApplicationsErased: 1, allottedShareApplicationsErased: 1, registerEntriesKept: [member.number] });
    expect(JSON.stringify(erasedAudit[0]!.after)).not.toContain('Kit');
  });

  it('when a person asks for erasure while a share payment is under way, then it is refused and nothing is erased', async () => {
    const email = uniqueEmail('inflight');
    const { personId, headers } = await signInAs(app, { email });
    const applied = await applyOk(app, personApplication(15, { email, name: 'Ines Inflight' }), headers);
    await app.stripe.pay(applied.sessionId, 'bacs');
    expect((await applicationRow(app, applied.id)).status).toBe('processing');

    const res = await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('application_awaiting_payment');
    expect(res.body.error.details).toEqual({ applications: [{ id: applied.id, status: 'processing' }] });
    const person = await app.db.selectFrom('people').selectAll().where('id', '=', personId).executeTakeFirstOrThrow();
    expect(person).toMatchObject({ email, erased_at: null });
    expect(await applicationRow(app, applied.id)).toMatchObject({ name: 'Ines Inflight', erased_at: null });
    expect((await app.request('GET', '/api/me', { headers })).status).toBe(200);
    expect(await auditWhere('person.erased', personId)).toHaveLength(0);
  });

  it('when a stranger\'s application in someone\'s address awaits payment, then it does not hold their erasure back, and its payment is refunded', async () => {
    const email = uniqueEmail('strangerapp');
    const stranger = await applyOk(app, personApplication(20, { email, name: 'Somebody Else' }));
    const { headers } = await signInAs(app, { email });
    expect((await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers })).status).toBe(200);
    expect(await applicationRow(app, stranger.id)).toMatchObject({ name: '[erased]', erased_at: expect.any(Date) });

    await app.stripe.pay(stranger.sessionId);
    expect(await applicationRow(app, stranger.id)).toMatchObject({ status: 'refused', refusal_reason: 'applicant_erased' });
  });

  it('when money arrives late for an application whose applicant was erased, then nothing is allotted and it is refunded', async () => {
    const email = uniqueEmail('lateafter');
    const applied = await applyOk(app, personApplication(12, { email, name: 'Lou Late' }));
    // The checkout is left open; a day later the unpaid application stops counting, so erasure is allowed.
    app.clock.advance(26 * 3600 * 1000);
    try {
      expect(await expireStaleApplications(app.deps)).toBeGreaterThanOrEqual(1);
      const { headers } = await signInAs(app, { email });
      expect((await app.request('POST', '/api/me/erasure', { json: { confirm: true }, headers })).status).toBe(200);

      await app.stripe.pay(applied.sessionId);
      const row = await applicationRow(app, applied.id);
      expect(row).toMatchObject({ status: 'refused', refusal_reason: 'applicant_erased', name: '[erased]' });
      expect(await app.db.selectFrom('members').selectAll().where('person_id', '=', row.person_id).execute()).toEqual([]);
      const { rows: jobs } = await sql<{ payload: { applicationId: string } }>`
        select j.payload from graphile_worker._private_jobs j
        join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'shares:refund-payment'`.execute(app.db);
      expect(jobs.map((j) => j.payload.applicationId)).toContain(applied.id);
    } finally {
      app.clock.set(NOW);
    }
  });

  it("exports a member's applications, membership, share transactions and the changes to their register entry", async () => {
    const email = uniqueEmail('exporter');
    const bought = await buyShares(app, personApplication(25, { email, name: 'Ed Export', dateOfBirth: '1988-08-08' }));
    const member = (await memberByEmail(app, email))!;
    const { headers } = await signInAs(app, { email });
    expect((await app.request('PATCH', '/api/me', { json: { postalAddress: newAddress }, headers })).status).toBe(200);

    const res = await app.request('GET', '/api/me/export', { headers });
    expect(res.status).toBe(200);
    const data = JSON.parse(res.text);
    expect(data.member).toMatchObject({ number: member.number, name: 'Ed Export', address: newAddress, sharesHeld: 25, amountPaid: 2500 });
    expect(data.shares).toMatchObject({ held: 25, paid: 2500 });
    expect(data.shares.transactions).toEqual([expect.objectContaining({ memberNumber: member.number, kind: 'allotment', shares: 25, amount: 2500 })]);
    expect(data.shareApplications).toEqual([
      expect.objectContaining({ id: bought.id, name: 'Ed Export', dateOfBirth: '1988-08-08', status: 'allotted', shares: 25, amount: 2500, erasedAt: null }),
    ]);
    expect(data.changesToYourRegisterEntry).toEqual([
      expect.objectContaining({ action: 'member.details_changed', memberNumber: member.number, after: { fields: expect.arrayContaining(['town']) } }),
    ]);
    // Nobody else's register entries.
    expect(res.text).not.toContain('Mo Moved');
  });
});
