import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDonation, uniqueEmail } from '../payments/payment-helpers.js';
import { signInAs } from '../support/auth.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { humanReference } from '../../src/lib/references.js';

describe('emails about a donation', () => {
  let smtp: TestSmtp;
  let app: TestApp;
  beforeAll(async () => {
    smtp = await startTestSmtp();
    app = await startTestApp({ worker: true, now: '2026-11-20T12:00:00Z', env: { SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
  });

  const emailsTo = (to: string) => app.db.selectFrom('emails').selectAll().where('to_address', '=', to).orderBy('created_at').execute();

  it('when a gift is booked, then a receipt (amount, date, campaign, reference, account link) is queued in that transaction and sent once, however often Stripe tells us', async () => {
    const email = uniqueEmail('receipt');
    const d = await startDonation(app, { amount: 2550, email, name: 'Ann <Smith> & Co' });
    expect(await emailsTo(email)).toHaveLength(0);

    const { events, deliveries } = await app.stripe.pay(d.sessionId);
    expect(deliveries.map((x) => x.status)).toEqual([200]);
    const [queued] = await emailsTo(email);
    expect(queued).toMatchObject({ template: 'donation-receipt', dedupe_key: expect.stringMatching(/^donation-receipt:pi_/) });
    const donation = await app.db.selectFrom('donations').selectAll().where('id', '=', d.donationId).executeTakeFirstOrThrow();
    expect(queued!.person_id).toBe(donation.person_id);

    const [mail] = await smtp.waitForMail((m) => m.to === email);
    expect(mail!.subject).toBe('Thank you: receipt for your £25.50 gift to the fighting fund');
    expect(mail!.text).toContain('Dear Ann <Smith> & Co,');
    expect(mail!.html).toContain('Dear Ann &lt;Smith&gt; &amp; Co,');
    expect(mail!.text).toMatch(/Amount:\s+£25\.50/);
    expect(mail!.text).toMatch(/Date:\s+20 November 2026/);
    expect(mail!.text).toMatch(/Campaign:\s+\S+/);
    const campaign = await app.db.selectFrom('ledger_entries').innerJoin('campaigns', 'campaigns.id', 'ledger_entries.campaign_id').select('campaigns.title').where('donation_id', '=', d.donationId).executeTakeFirstOrThrow();
    expect(mail!.text).toContain(campaign.title);
    // A short reference a person can read out, derived from the donation; no UUID or Stripe id.
    expect(mail!.text).toContain(`Reference: ${humanReference('GIFT', d.donationId)}`);
    expect(mail!.text).toMatch(/Reference: GIFT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\n/);
    expect(mail!.text).not.toContain(d.donationId);
    expect(mail!.text).not.toMatch(/pi_\w+/);
    expect(mail!.text).toContain(`${app.config.publicUrl}/account`);
    expect(mail!.html).toContain(`href="${app.config.publicUrl}/account"`);
    expect(mail!.text).toContain(app.config.society.address);

    // Stripe delivers the same event again, and then a copy under a new event id.
    expect((await app.deliverWebhook(events[0]!)).status).toBe(200);
    expect((await app.deliverWebhook({ ...events[0]!, id: `${events[0]!.id}_copy` })).status).toBe(200);
    expect(await emailsTo(email)).toHaveLength(1);

    // The donor sees the gift on their account.
    const { headers } = await signInAs(app, { email });
    const me = await app.request('GET', '/api/me', { headers });
    expect(me.body.donations).toEqual([
      expect.objectContaining({ id: d.donationId, amount: 2550, currency: 'GBP', status: 'paid', campaign: { slug: expect.any(String), title: campaign.title } }),
    ]);
    const page = await app.request('GET', '/account', { headers: { ...headers, accept: 'text/html' } });
    expect(page.text).toContain('£25.50');
  });

  it('when a gift is refunded in part, then the donor gets one notice per refund, with the amounts and an account link', async () => {
    const email = uniqueEmail('refund');
    const d = await startDonation(app, { amount: 5000, email });
    await app.stripe.pay(d.sessionId);
    const refund = await app.stripe.refund(d.sessionId, 1200);
    expect(refund.deliveries.every((x) => x.status === 200)).toBe(true);
    for (const event of refund.events) expect((await app.deliverWebhook(event)).status).toBe(200);

    const mails = await smtp.waitForMail((m) => m.to === email, { count: 2 });
    const notice = mails.find((m) => m.subject.includes('refunded'))!;
    expect(notice.subject).toBe('Your gift of £50.00 has been refunded in part');
    expect(notice.text).toContain('We have refunded £12.00 of your £50.00 gift');
    expect(notice.text).toContain(refund.refundId);
    expect(notice.text).toContain(`${app.config.publicUrl}/account`);
    const rows = await emailsTo(email);
    expect(rows.map((r) => r.template).sort()).toEqual(['donation-receipt', 'donation-refunded']);
  });

  it('sends no receipt for a donation that was never paid', async () => {
    const email = uniqueEmail('unpaid');
    const d = await startDonation(app, { amount: 700, email });
    await app.stripe.expire(d.sessionId);
    expect(await emailsTo(email)).toHaveLength(0);
  });
});
