import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import {
  NOW,
  applicationRow,
  apply,
  applyOk,
  buyShares,
  memberByEmail,
  organisationApplication,
  personApplication,
  uniqueEmail,
} from './shares-helpers.js';

describe('applying for shares', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('when a person applies, then a pending application and one Checkout Session of N shares at the share price are created', async () => {
    const email = uniqueEmail('ada');
    const res = await apply(app, personApplication(250, { email }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), checkoutUrl: expect.stringMatching(/\/checkout\/cs_/) });

    const row = await applicationRow(app, res.body.id);
    expect(row).toMatchObject({ status: 'pending', shares: 250, price_per_share: 100, amount: 25_000, applicant_kind: 'person', email, date_of_birth: '1980-05-17' });
    expect(row.rules_url).toBe(app.config.society.rulesUrl);

    const created = app.stripe.requestsTo('/v1/checkout/sessions', 'POST').find((r) => r.params.client_reference_id === res.body.id);
    expect(created?.params).toMatchObject({
      mode: 'payment',
      client_reference_id: res.body.id,
      customer_email: email,
      line_items: [{ quantity: '250', price_data: { unit_amount: '100', currency: 'gbp' } }],
      metadata: { purpose: 'share_application', record_id: res.body.id },
    });
    expect(created?.idempotencyKey).toBeTruthy();
  });

  it.each([
    ['no shares', (b: any) => delete b.shares],
    ['a negative number of shares', (b: any) => (b.shares = -3)],
    ['a fraction of a share', (b: any) => (b.shares = 1.5)],
    ['shares as text', (b: any) => (b.shares = '10')],
    ['a person without a date of birth', (b: any) => delete b.applicant.dateOfBirth],
    ['an impossible date of birth', (b: any) => (b.applicant.dateOfBirth = '1990-02-30')],
    ['a person claiming to be a registered society', (b: any) => (b.applicant.registeredSociety = true)],
    ['an unknown kind of applicant', (b: any) => (b.applicant.kind = 'robot')],
    ['no postcode', (b: any) => delete b.applicant.address.postcode],
    ['a bad email', (b: any) => (b.applicant.email = 'not-an-email')],
    ['acceptRules missing', (b: any) => delete b.acceptRules],
  ])('when the request has %s, then 400 invalid_request and nothing is stored', async (_what, mutate) => {
    const body = personApplication(10);
    mutate(body);
    const before = await app.db.selectFrom('share_applications').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const res = await apply(app, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    const after = await app.db.selectFrom('share_applications').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('when the rules are not accepted, then 422 rules_not_accepted pointing to the rules', async () => {
    const res = await apply(app, { ...personApplication(10), acceptRules: false });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'rules_not_accepted', details: { rulesUrl: app.config.society.rulesUrl } });
  });

  it('when an organisation applies, then no date of birth is needed and it is recorded as an organisation', async () => {
    const email = uniqueEmail('branch');
    const { id } = await buyShares(app, organisationApplication(500, { email, name: 'Unite Leeds Branch 7' }));
    expect(await applicationRow(app, id)).toMatchObject({ status: 'allotted', applicant_kind: 'organisation', date_of_birth: null, registered_society: false });
    expect(await memberByEmail(app, email)).toMatchObject({ kind: 'organisation', name: 'Unite Leeds Branch 7', registered_society: false, shares_held: 500 });
  });

  it('when a member who is a person, signed in, applies as an organisation, then 422 applicant_mismatch', async () => {
    const email = uniqueEmail('both');
    await buyShares(app, personApplication(10, { email }));
    const res = await apply(app, organisationApplication(10, { email }), (await signInAs(app, { email })).headers);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('applicant_mismatch');
  });

  it('when Stripe does not answer, then 502 and the application no longer holds room under the cap', async () => {
    const email = uniqueEmail('down');
    app.stripe.failNext('/v1/checkout/sessions', 10, { method: 'POST', status: 500, retryable: false });
    const res = await apply(app, personApplication(100, { email }));
    app.stripe.failNext('/v1/checkout/sessions', 0);
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('payment_provider_unavailable');
    const rows = await app.db.selectFrom('share_applications').selectAll().where('email', '=', email).execute();
    expect(rows.map((r) => r.status)).toEqual(['failed']);
  });

  it('answers GET /api/openapi.json with the shares routes in it', async () => {
    const res = await app.request('GET', '/api/openapi.json');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/share-applications',
        '/api/me/certificate.pdf',
        '/api/me/share-withdrawals',
        '/api/admin/register.csv',
        '/api/admin/register/duplicate.csv',
        '/api/admin/members',
        '/api/admin/share-withdrawals',
        '/api/admin/share-withdrawals/{id}/defer',
      ]),
    );
  });
});

describe('minimum shares and minimum age', () => {
  let app: TestApp;
  beforeAll(async () => {
    // 23:30 UTC on 30 June is already 1 July in London (BST): the society's calendar decides birthdays.
    app = await startTestApp({ now: '2026-06-30T23:30:00Z', env: { MIN_SHARES: '10' } });
  });
  afterAll(() => app.close());

  it('when fewer than the minimum shares are asked for, then 422 below_minimum_shares', async () => {
    const res = await apply(app, personApplication(9));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'below_minimum_shares', details: { minShares: 10 } });
    expect((await apply(app, personApplication(10))).status).toBe(201);
    const none = await apply(app, personApplication(0));
    expect(none.status).toBe(422);
    expect(none.body.error.code).toBe('below_minimum_shares');
    expect((await apply(app, personApplication(-1))).status).toBe(400);
  });

  it('when the applicant turns 16 today in the society time zone, then they may apply', async () => {
    const res = await apply(app, personApplication(10, { dateOfBirth: '2010-07-01' }));
    expect(res.status).toBe(201);
  });

  it('when the applicant turns 16 tomorrow, then 422 under_minimum_age', async () => {
    const res = await apply(app, personApplication(10, { dateOfBirth: '2010-07-02' }));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'under_minimum_age', details: { minAge: 16 } });
  });

  it('when an organisation applies, then no age applies', async () => {
    expect((await apply(app, organisationApplication(10))).status).toBe(201);
  });
});

describe('the maximum holding', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  /** A member holding £99,900 of the £100,000 cap. */
  async function memberNearTheCap() {
    const email = uniqueEmail('big');
    await buyShares(app, personApplication(99_900, { email }));
    return email;
  }

  it('when two applications of the signed-in member race for the last £100, then exactly one is accepted', async () => {
    const email = await memberNearTheCap();
    const { headers } = await signInAs(app, { email });
    const results = await Promise.all([apply(app, personApplication(100, { email }), headers), apply(app, personApplication(100, { email }), headers)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 422]);
    expect(results.find((r) => r.status === 422)!.body.error.code).toBe('holding_cap_exceeded');
    const pending = await app.db.selectFrom('share_applications').selectAll().where('email', '=', email).where('status', '=', 'pending').execute();
    expect(pending).toHaveLength(1);
  });

  it('when two first applications from a new, signed-in email race for more than half the cap each, then exactly one is accepted', async () => {
    const email = uniqueEmail('newcomer');
    const { headers } = await signInAs(app, { email });
    const results = await Promise.all([apply(app, personApplication(60_000, { email }), headers), apply(app, personApplication(60_000, { email }), headers)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 422]);
  });

  it('when the holder is signed in, then the refusal says what they hold and how much more they can have', async () => {
    const email = await memberNearTheCap();
    const { headers } = await signInAs(app, { email });
    const res = await apply(app, personApplication(101, { email }), headers);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('holding_cap_exceeded');
    expect(res.body.error.message).toContain('you hold £99,900; the most anyone may hold is £100,000, so you can apply for at most 100 more shares');
    expect(res.body.error.details).toMatchObject({ held: 9_990_000, pending: 0, maxShares: 100 });
  });

  it('when someone else types the email, then only the application itself is checked, and a refusal reveals no figures', async () => {
    const email = await memberNearTheCap();
    expect((await apply(app, personApplication(101, { email }))).status).toBe(201);
    const res = await apply(app, personApplication(100_001, { email }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('holding_cap_exceeded');
    expect(res.body.error.message).toContain('£100,000');
    expect(res.body.error.message).not.toContain('99,900');
    expect(res.body.error.details).toEqual({ maxHolding: 10_000_000, maxShares: 100_000 });
  });

  it('counts applications awaiting payment, and stops counting them once their checkout expires', async () => {
    const email = uniqueEmail('waiting');
    const { headers } = await signInAs(app, { email });
    const first = await applyOk(app, personApplication(70_000, { email }), headers);
    expect((await apply(app, personApplication(40_000, { email }), headers)).status).toBe(422);

    await app.stripe.expire(first.sessionId);
    expect((await applicationRow(app, first.id)).status).toBe('expired');
    expect((await apply(app, personApplication(40_000, { email }), headers)).status).toBe(201);
  });

  it('when a Bacs payment fails, then its application stops counting', async () => {
    const email = uniqueEmail('bacsfail');
    const { headers } = await signInAs(app, { email });
    const first = await applyOk(app, personApplication(70_000, { email }), headers);
    await app.stripe.pay(first.sessionId, 'bacs');
    expect((await applicationRow(app, first.id)).status).toBe('processing');
    expect((await apply(app, personApplication(40_000, { email }), headers)).status).toBe(422);
    await app.stripe.settleBacs(first.sessionId, 'failed');
    expect((await applicationRow(app, first.id)).status).toBe('failed');
    expect((await apply(app, personApplication(40_000, { email }), headers)).status).toBe(201);
  });

  it('when a registered society applies, then it may hold more than the cap', async () => {
    const email = uniqueEmail('coop');
    await buyShares(app, organisationApplication(99_000, { email, registeredSociety: true }));
    const res = await apply(app, organisationApplication(5_000, { email, registeredSociety: true }));
    expect(res.status).toBe(201);
  });

  it('when an organisation that is not a registered society goes over the cap, then it is refused', async () => {
    const res = await apply(app, organisationApplication(100_001));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('holding_cap_exceeded');
  });

  it('when a member that joined without the exemption later claims it, then the register decides: refused', async () => {
    const email = uniqueEmail('claims');
    await buyShares(app, organisationApplication(99_000, { email, registeredSociety: false }));
    const res = await apply(app, organisationApplication(5_000, { email, registeredSociety: true }), (await signInAs(app, { email })).headers);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('holding_cap_exceeded');
    // Anyone else: accepted before payment, and the register decides when the money arrives.
    const other = await applyOk(app, organisationApplication(5_000, { email, registeredSociety: true }));
    await app.stripe.pay(other.sessionId);
    expect(await applicationRow(app, other.id)).toMatchObject({ status: 'refused', refusal_reason: 'holding_cap_exceeded' });
  });
});

describe('the /shares page', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: NOW });
  });
  afterAll(() => app.close());

  it('shows the share price, the limits and a link to the rules', async () => {
    const res = await app.request('GET', '/shares');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain(`href="${app.config.society.rulesUrl}"`);
    expect(res.text).toContain('£1');
    expect(res.text).toContain('£100,000');
    expect(res.text).toContain('at least 16');
    expect(res.text).toContain('name="acceptRules"');
  });

  it('when the form is complete, then it redirects to the checkout', async () => {
    const email = uniqueEmail('form');
    const res = await app.request('POST', '/shares', {
      form: { kind: 'person', shares: '1,000', name: 'Form Filler', email, line1: '2 Press Row', town: 'York', postcode: 'YO1 7HH', country: 'United Kingdom', dateOfBirth: '1975-01-31', acceptRules: 'true' },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/\/checkout\/cs_/);
    const row = await app.db.selectFrom('share_applications').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ shares: 1000, name: 'Form Filler', status: 'pending' });
  });

  it('when the form breaks a rule, then it comes back with the problem and the reader values, escaped', async () => {
    const res = await app.request('POST', '/shares', {
      form: { kind: 'person', shares: '10', name: '<b>Young</b> Reader', email: uniqueEmail('young'), line1: '3 Press Row', town: 'York', postcode: 'YO1 7HH', country: 'UK', dateOfBirth: '2015-01-01', acceptRules: 'true' },
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain('You need to be at least 16');
    expect(res.text).toContain('value="&lt;b&gt;Young&lt;/b&gt; Reader"');
    // The date of birth comes back in its day, month and year boxes.
    expect(res.text).toMatch(/name="dobDay"[^>]*value="1"/);
    expect(res.text).toMatch(/name="dobMonth"[^>]*value="1"/);
    expect(res.text).toMatch(/name="dobYear"[^>]*value="2015"/);
    expect(res.text).toMatch(/<title>Error: /);
  });

  it('when the date of birth is typed in day, month and year boxes, then it is read as that date', async () => {
    const email = uniqueEmail('boxes');
    const res = await app.request('POST', '/shares', {
      form: { kind: 'person', shares: '3', name: 'Box Filler', email, line1: '2 Press Row', town: 'York', postcode: 'YO1 7HH', country: 'United Kingdom', dobDay: '7', dobMonth: '3', dobYear: '1981', acceptRules: 'true' },
    });
    expect(res.status).toBe(303);
    const row = await app.db.selectFrom('share_applications').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    expect(String(row.date_of_birth)).toContain('1981');
    const wrong = await app.request('POST', '/shares', {
      form: { kind: 'person', shares: '3', name: 'Box Filler', email: uniqueEmail('boxes'), line1: '2 Press Row', town: 'York', postcode: 'YO1 7HH', country: 'UK', dobDay: '31', dobMonth: '2', dobYear: '1981', acceptRules: 'true' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('id="dateOfBirth-error"');
  });

  it('when the page is shown, then person-only and organisation-only fields say so and are marked for the choice, and plurals read right', async () => {
    const res = await app.request('GET', '/shares');
    expect(res.text).toContain('data-show-when="kind=person"');
    expect(res.text).toContain('data-show-when="kind=organisation"');
    expect(res.text).toContain('at least 1 share.');
    expect(res.text).not.toContain('at least 1 shares');
  });

  it('when the applicant cancels on the payment page, then the form comes back filled in as they left it', async () => {
    const email = uniqueEmail('cancel');
    await app.request('POST', '/shares', {
      form: { kind: 'person', shares: '12', name: 'Cancel Reader', email, line1: '4 Press Row', town: 'York', postcode: 'YO1 7HH', country: 'United Kingdom', dobDay: '2', dobMonth: '11', dobYear: '1970', acceptRules: 'true' },
    });
    const row = await app.db.selectFrom('share_applications').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    const created = app.stripe.requestsTo('/v1/checkout/sessions', 'POST').find((r) => r.params.client_reference_id === row.id)!;
    expect(created.params.cancel_url).toBe(`${app.config.publicUrl}/shares/resume/${row.id}`);
    const page = await app.request('GET', `/shares/resume/${row.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Payment cancelled: nothing was taken.');
    expect(page.text).toContain('value="Cancel Reader"');
    expect(page.text).toContain('value="12"');
    expect(page.text).toMatch(/name="dobYear"[^>]*value="1970"/);
    expect((await app.request('GET', '/shares/resume/00000000-0000-4000-8000-000000000000')).headers.get('location')).toBe('/shares');
  });

  it('when fields are missing or the rules box is not ticked, then each problem is shown beside its field', async () => {
    const res = await app.request('POST', '/shares', { form: { kind: 'organisation', shares: 'lots', name: 'A Branch', email: 'nope' } });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="shares-error"');
    expect(res.text).toContain('id="email-error"');
    expect(res.text).toContain('id="line1-error"');
    expect(res.text).toContain('value="A Branch"');
  });
});
