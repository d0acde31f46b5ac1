import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMajorUnits } from '../../src/lib/money.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { rowCounts, uniqueEmail } from '../payments/payment-helpers.js';

describe('parseMajorUnits (the amount typed on the form)', () => {
  const cases: [string, number | null][] = [
    ['10', 1000],
    ['12.50', 1250],
    ['12.5', 1250],
    ['0.07', 7],
    ['£5', 500],
    [' £ 1,000.01 ', 100001],
    ['1,000,000', 100_000_000],
    ['0.1', 10],
    // 0.1 + 0.2 style float traps: exact from the digits.
    ['1.15', 115],
    ['4.35', 435],
    ['12.505', null],
    ['-5', null],
    ['1e3', null],
    ['ten', null],
    ['', null],
    // A decimal comma, as much of Europe writes it.
    ['5,50', 550],
    ['1,00', 100],
    ['12,5', 1250],
    ['1,5,0', null],
    ['.50', null],
    ['99999999999999999999', null],
  ];
  for (const [text, pence] of cases) {
    it(`reads ${JSON.stringify(text)} as ${pence === null ? 'not an amount' : `${pence} pence`}`, () => {
      expect(parseMajorUnits(text)).toBe(pence);
    });
  }
});

describe('POST /donate (the form)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('when the form is filled in, then 303 to the Checkout page with the amount in pence', async () => {
    const email = uniqueEmail();
    const res = await app.request('POST', '/donate', { form: { amount: '12.50', email, name: 'Form Donor', town: 'York', acknowledge: 'true' } });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/\/sandbox\/checkout\/cs_test_\w+$/);
    const donation = await app.db.selectFrom('donations').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    expect(donation).toMatchObject({ amount: 1250, name: 'Form Donor', town: 'York', acknowledge: true, status: 'pending' });
  });

  const problems: [string, Record<string, string>, RegExp][] = [
    ['the amount is not a number', { amount: 'lots', email: 'x@example.org' }, /amount in pounds/],
    ['the amount has three decimals', { amount: '1.005', email: 'x@example.org' }, /amount in pounds/],
    ['the amount is below the minimum', { amount: '0.50', email: 'x@example.org' }, /at least £1:/],
    ['the amount is above the maximum', { amount: '10,000.01', email: 'x@example.org' }, /at most £10,000 online/],
    ['the email is missing', { amount: '10' }, /email address/],
    ['the email is not an email', { amount: '10', email: 'nope' }, /email address/],
    ['the reader asks to be thanked without a name', { amount: '10', email: 'x@example.org', acknowledge: 'true' }, /your name/],
  ];
  it('when a suggested amount is chosen and the amount box left empty (no JavaScript), then the chosen amount is given', async () => {
    const email = uniqueEmail();
    const res = await app.request('POST', '/donate', { form: { suggested: '25', amount: '', email } });
    expect(res.status).toBe(303);
    const donation = await app.db.selectFrom('donations').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    expect(donation.amount).toBe(2500);
  });

  it('when the donor cancels on the payment page, then the donate form comes back filled in as they left it', async () => {
    const email = uniqueEmail();
    await app.request('POST', '/donate', { form: { amount: '12.50', email, name: 'Cancel Donor', town: 'Hull', acknowledge: 'true' } });
    const donation = await app.db.selectFrom('donations').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    const page = await app.request('GET', `/donate/resume/${donation.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Payment cancelled: nothing was taken.');
    expect(page.text).toContain('data-amount-box value="12.50"');
    expect(page.text).toContain(`value="${email}"`);
    expect(page.text).toContain('value="Cancel Donor"');
    expect(page.text).toMatch(/id="acknowledge" name="acknowledge" value="true" checked/);
    const unknown = await app.request('GET', '/donate/resume/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(303);
    expect(unknown.headers.get('location')).toBe('/donate');
  });

  it('when the amount is typed with a decimal comma (5,50), then £5.50 is given', async () => {
    const email = uniqueEmail();
    const res = await app.request('POST', '/donate', { form: { amount: '5,50', email } });
    expect(res.status).toBe(303);
    const donation = await app.db.selectFrom('donations').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
    expect(donation.amount).toBe(550);
  });

  it('when the form comes back with a problem, then the page title starts with "Error:" and the error summary takes the focus', async () => {
    const res = await app.request('POST', '/donate', { form: { amount: '0.50', email: uniqueEmail() } });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/<title>Error: Donate · /);
    expect(res.text).toMatch(/<div class="error-summary" role="alert" [^>]*tabindex="-1" autofocus>/);
  });

  it('when both the amount is below the minimum and the email is wrong, then the form names both problems at once', async () => {
    const res = await app.request('POST', '/donate', { form: { amount: '0.50', email: 'nope' } });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/Please give at least £1:/);
    expect(res.text).toMatch(/email address we can send your receipt to/);
  });

  for (const [scenario, form, message] of problems) {
    it(`when ${scenario}, then the form comes back (422) with the problem and the values, and nothing is stored`, async () => {
      const before = await rowCounts(app);
      const res = await app.request('POST', '/donate', { form });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.text).toMatch(message);
      if (form.amount) expect(res.text).toContain(`value="${form.amount}"`);
      expect(await rowCounts(app)).toEqual(before);
    });
  }

  it('when the form was shown for a campaign that has since ended, then the gift goes to the current campaign', async () => {
    const slug = `ended-${Date.now().toString(36)}`;
    await app.db
      .insertInto('campaigns')
      .values({ slug, title: 'Ended appeal', kind: 'special', target: 100000, currency: 'GBP', starts_at: '2020-01-01T00:00:00Z', deadline: '2020-01-31T00:00:00Z' })
      .execute();
    const email = uniqueEmail();
    const res = await app.request('POST', '/donate', { form: { amount: '5', email, campaign: slug } });
    expect(res.status).toBe(303);
    const donation = await app.db
      .selectFrom('donations')
      .innerJoin('campaigns', 'campaigns.id', 'donations.campaign_id')
      .select('campaigns.slug')
      .where('donations.email', '=', email)
      .executeTakeFirstOrThrow();
    expect(donation.slug).not.toBe(slug);
  });

  it('when the typed values contain markup, then it is escaped on the page', async () => {
    const res = await app.request('POST', '/donate', { form: { amount: '<b>x</b>', email: '"><script>x</script>' } });
    expect(res.status).toBe(422);
    expect(res.text).not.toContain('<script>x</script>');
    expect(res.text).not.toContain('<b>x</b>');
  });
});
