import { createHash } from 'node:crypto';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDonatePage } from '../../src/fighting-fund/fund-pages.js';
import { getCurrentCampaign } from '../../src/fighting-fund/campaigns.service.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { fundTableCounts, giveOnline, takeBack, uid } from './fund-helpers.js';

/** Visible text of an HTML page, tags stripped and spaces folded. */
const textOf = (html: string) =>
  html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();

async function insertSpecialCampaign(app: TestApp, values: { slug: string; title: string; startsAt: string; deadline: string; target?: number }) {
  return app.db
    .insertInto('campaigns')
    .values({
      slug: values.slug,
      title: values.title,
      kind: 'special',
      target: values.target ?? 100_000,
      currency: 'GBP',
      starts_at: new Date(values.startsAt),
      deadline: new Date(values.deadline),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

describe('GET /api/fighting-fund/acknowledgements', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
  });
  afterAll(() => app.close());

  it('lists only donors who chose to be named, newest first, net of refunds, and never the others', async () => {
    app.clock.set('2027-01-05T10:00:00Z');
    await giveOnline(app, { amount: 1000, acknowledged: true, donorName: 'Ada Lovelace', donorTown: 'London' });
    app.clock.set('2027-01-06T10:00:00Z');
    await giveOnline(app, { amount: 2000, acknowledged: false, donorName: 'Secret Sam', donorTown: 'Nowhere' });
    app.clock.set('2027-01-07T10:00:00Z');
    const partly = await giveOnline(app, { amount: 5000, acknowledged: true, donorName: 'Tom Paine', donorTown: null });
    app.clock.set('2027-01-08T10:00:00Z');
    const refunded = await giveOnline(app, { amount: 700, acknowledged: true, donorName: 'Refunded Rita', donorTown: 'Leeds' });
    await takeBack(app, { originalStripeKey: partly.entry.stripe_key!, amount: 1500 });
    await takeBack(app, { originalStripeKey: refunded.entry.stripe_key!, amount: 700 });

    const res = await app.request('GET', '/api/fighting-fund/acknowledgements');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { name: 'Tom Paine', town: null, amount: 3500, givenAt: '2027-01-07T10:00:00.000Z' },
      { name: 'Ada Lovelace', town: 'London', amount: 1000, givenAt: '2027-01-05T10:00:00.000Z' },
    ]);
    expect(res.text).not.toContain('Secret Sam');
    expect(res.text).not.toContain('Nowhere');
    const bySlug = await app.request('GET', '/api/fighting-fund/acknowledgements?campaign=2027-01');
    expect(bySlug.body).toEqual(res.body);
    expect((await app.request('GET', '/api/fighting-fund/acknowledgements?campaign=2027-01&limit=1')).body).toHaveLength(1);
  });

  it('when the campaign is unknown or the query malformed, then 404 or 400 and nothing is created', async () => {
    const before = await fundTableCounts(app);
    const unknown = await app.request('GET', '/api/fighting-fund/acknowledgements?campaign=2098-01');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('campaign_not_found');
    for (const q of ['campaign=Bad%20Slug', 'limit=0', 'limit=abc', 'campaign=a&campaign=b']) {
      const bad = await app.request('GET', `/api/fighting-fund/acknowledgements?${q}`);
      expect(bad.status, q).toBe(400);
      expect(bad.body.error.code).toBe('invalid_request');
    }
    expect(await fundTableCounts(app)).toEqual(before);
  });
});

describe('the widget', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z', env: { PUBLIC_URL: 'https://fund.example.org' } });
    await giveOnline(app, { amount: 1_028_200 });
  });
  afterAll(() => app.close());

  it('serves a self-contained HTML page with the figures, a progress bar and a Donate link that leaves the frame', async () => {
    const res = await app.request('GET', '/widget/fighting-fund');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const text = textOf(res.text);
    expect(text).toContain("You've raised £10,282");
    expect(text).toContain('We need £7,718');
    expect(text).toContain('11 days remaining');
    expect(res.text).toContain('role="progressbar"');
    expect(res.text).toContain('aria-valuenow="57.1"');
    expect(res.text).toContain('style="width: 57.1%"');
    expect(res.text).toMatch(/<a class="donate" href="https:\/\/fund\.example\.org\/donate" target="_top">Donate today<\/a>/);
    // Self-contained: inline CSS and one inline script, nothing fetched from elsewhere.
    expect(res.text).not.toMatch(/<link|src=/);
    expect(res.text).toContain('<style>');
    // It tells the page around it its height, allowed by the script's hash and nothing else.
    expect(res.text).toContain("window.parent.postMessage({ type: 'reader-coop:widget-height'");
    const script = /<script>([\s\S]*?)<\/script>/.exec(res.text)![1]!;
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain(`script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(csp).toContain("default-src 'none'");
    // Framable by any site.
    expect(csp).toContain('frame-ancestors *');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
  });

  it('serves the same figures as an SVG image that other sites may show', async () => {
    const res = await app.request('GET', '/widget/fighting-fund.svg');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.text).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(res.text).toContain('<title id="t">November 2026 fighting fund</title>');
    expect(res.text).toContain('>£10,282</text>');
    expect(res.text).toContain('>£7,718</text>');
    expect(res.text).toContain('>11</text>');
    expect(res.text).toContain('width="256"'); // 57.1% of the 448-pixel bar
  });

  it('escapes what it shows: a campaign title with markup stays text in HTML and SVG', async () => {
    const slug = `escape-${uid()}`;
    await insertSpecialCampaign(app, { slug, title: '<script>alert("x")</script> & co', startsAt: '2030-01-01T00:00:00Z', deadline: '2030-01-31T00:00:00Z' });
    const svg = await app.request('GET', `/widget/fighting-fund.svg?campaign=${slug}`);
    expect(svg.status).toBe(200);
    expect(svg.text).not.toContain('<script>');
    expect(svg.text).toContain('&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co');
    const html = await app.request('GET', `/widget/fighting-fund?campaign=${slug}`);
    expect(html.text).not.toContain('<script>alert');
    expect(html.text).toContain(`href="https://fund.example.org/donate?campaign=${slug}"`);
  });

  it('when the campaign is unknown or malformed, then 404 or 400', async () => {
    expect((await app.request('GET', '/widget/fighting-fund?campaign=2097-01')).status).toBe(404);
    expect((await app.request('GET', '/widget/fighting-fund.svg?campaign=NOPE!')).status).toBe(400);
  });

  it('when the figures are long, then the SVG squeezes each into its own column rather than overlap the next', async () => {
    const slug = `long-${uid()}`;
    await insertSpecialCampaign(app, { slug, title: 'A very large appeal', startsAt: '2031-01-01T00:00:00Z', deadline: '2031-01-31T00:00:00Z', target: 123_456_789_00 });
    const svg = (await app.request('GET', `/widget/fighting-fund.svg?campaign=${slug}`)).text;
    expect(svg).toMatch(/<text x="176" y="50" font-size="22" textLength="148" lengthAdjust="spacingAndGlyphs">£123,456,789<\/text>/);
    // A short figure keeps its natural width.
    expect(svg).toMatch(/<text x="336" y="50" font-size="22">[\d,]+<\/text>/);
  });

  it('/widget shows the copy-paste codes of both widgets, the HTML one with the lines that fit its height', async () => {
    const res = await app.request('GET', '/widget');
    expect(res.status).toBe(200);
    expect(res.text).toContain('&lt;iframe id=&#34;reader-coop-fund&#34; src=&#34;https://fund.example.org/widget/fighting-fund&#34;');
    expect(res.text).toContain('reader-coop:widget-height');
    expect(res.text).toContain("e.origin === &#39;https://fund.example.org&#39;");
    expect(res.text).toContain('&lt;img src=&#34;https://fund.example.org/widget/fighting-fund.svg&#34;');
  });

  it('shows "target reached" rather than a need of £0 once the target is beaten', async () => {
    app.clock.set('2028-03-10T12:00:00Z');
    await giveOnline(app, { amount: 1_900_000 });
    const html = textOf((await app.request('GET', '/widget/fighting-fund')).text);
    expect(html).toContain('Target reached');
    expect(html).not.toContain('We need');
    const svg = await app.request('GET', '/widget/fighting-fund.svg');
    expect(svg.text).toContain('width="448"');
    app.clock.set('2026-11-20T10:00:00Z');
  });
});

describe('the pages / and /donate', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    await giveOnline(app, { amount: 1_028_200, acknowledged: true, donorName: 'Rosa Luxemburg', donorTown: 'Berlin' });
    await giveOnline(app, { amount: 100, acknowledged: false, donorName: 'Shy Donor' });
  });
  afterAll(() => app.close());

  it('shows the fund banner, the ways to join, support and donate, and the named donors', async () => {
    const res = await app.request('GET', '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const text = textOf(res.text);
    expect(text.toUpperCase()).toContain("YOU'VE RAISED £10,283 WE NEED £7,717 11 DAYS REMAINING DONATE TODAY");
    expect(res.text).toMatch(/<a class="button" href="\/donate">Donate today<\/a>/);
    expect(res.text).toContain('href="/shares"');
    expect(res.text).toContain('href="/support"');
    expect(res.text).toMatch(/<h1>November 2026 fighting fund<\/h1>/);
    expect(text).toContain('Rosa Luxemburg, Berlin');
    expect(text).not.toContain('Shy Donor');
    expect(text).not.toContain('SANDBOX');
  });

  it('shows the donate form: labelled fields, suggested amounts, the campaign, posting to /donate', async () => {
    const res = await app.request('GET', '/donate');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<form method="post" action="/donate"');
    for (const field of ['amount', 'email', 'name', 'town', 'acknowledge']) {
      expect(res.text).toContain(`<label for="${field}">`);
      expect(res.text).toContain(`id="${field}" name="${field}"`);
    }
    expect(res.text).toContain('<input type="hidden" name="campaign" value="2026-11">');
    expect(res.text).toContain('<input type="radio" id="suggested-10" name="suggested" value="10"><label for="suggested-10">£10</label>');
    expect(textOf(res.text)).toContain('at least £1, at most £10,000');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('pre-fills the amount from a suggested-amount link and ignores a campaign that is not running', async () => {
    const res = await app.request('GET', '/donate?amount=25&campaign=2019-01');
    expect(res.text).toContain('id="amount" name="amount" inputmode="decimal" autocomplete="transaction-amount" data-amount-box value="25"');
    expect(res.text).toContain('<input type="radio" id="suggested-25" name="suggested" value="25" checked>');
    expect(res.text).toContain('name="campaign" value="2026-11"');
    const odd = await app.request('GET', '/donate?amount=%3Cb%3E');
    expect(odd.status).toBe(200);
    expect(odd.text).not.toContain('<b>');
  });

  it('re-renders the form with the reader’s values (escaped) and the problems beside the fields', async () => {
    const server = express()
      .get('/donate-again', async (_req, res) => {
        await renderDonatePage(app.deps, res, {
          values: { amount: '12.5x', email: 'ann@example.org"><script>', name: 'Ann', town: 'Hull', acknowledge: true, campaign: '2026-11' },
          errors: { amount: 'Enter an amount in pounds, like 10 or 12.50', email: 'Enter a valid email address' },
          status: 422,
        });
      })
      .listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/donate-again`);
      const html = await res.text();
      expect(res.status).toBe(422);
      expect(html).toContain('role="alert"');
      expect(html).toContain('<a href="#amount">Enter an amount in pounds, like 10 or 12.50</a>');
      expect(html).toContain('<p class="error" id="email-error">Enter a valid email address</p>');
      expect(html).toContain('value="12.5x"');
      expect(html).toContain('value="ann@example.org&#34;&gt;&lt;script&gt;"');
      expect(html).not.toContain('"><script>');
      expect(html).toMatch(/id="acknowledge" name="acknowledge" value="true" checked/);
      expect(html).toMatch(/id="amount"[^>]*aria-invalid="true"/);
    } finally {
      server.close();
    }
  });
});

describe('pages in sandbox mode', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z', env: { STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '' } });
  });
  afterAll(() => app.close());

  it('says SANDBOX on every page and on the widget while payments are simulated', async () => {
    expect(app.config.stripe.sandbox).toBe(true);
    for (const path of ['/', '/donate']) {
      const res = await app.request('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.text).toContain('<div class="sandbox" role="note">SANDBOX');
    }
    expect((await app.request('GET', '/widget/fighting-fund')).text).toContain('<span class="sandbox">Sandbox</span>');
    expect((await app.request('GET', '/widget/fighting-fund.svg')).text).toContain('>SANDBOX</text>');
  });
});

describe('the monthly rollover', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-30T23:30:00Z' });
  });
  afterAll(() => app.close());

  async function runEnsureTask(): Promise<void> {
    const runner = await app.startWorker();
    try {
      await runner.addJob('ensure-fund-campaigns', {});
      // The job runs on the worker; wait until the queue is empty (not a timing assertion).
      for (let i = 0; i < 200; i++) {
        const { rows } = await (await import('kysely')).sql<{ n: number }>`select count(*)::int8 as n from graphile_worker.jobs`.execute(app.db);
        if (rows[0]!.n === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('the ensure-fund-campaigns job did not finish');
    } finally {
      await runner.stop();
    }
  }

  it('creates this month and next month, and nothing twice when run again', async () => {
    await runEnsureTask();
    const slugs = (await app.db.selectFrom('campaigns').select(['slug', 'starts_at', 'deadline', 'target']).orderBy('slug').execute());
    expect(slugs).toEqual([
      { slug: '2026-11', starts_at: new Date('2026-11-01T00:00:00Z'), deadline: new Date('2026-11-30T23:59:59Z'), target: 1_800_000 },
      { slug: '2026-12', starts_at: new Date('2026-12-01T00:00:00Z'), deadline: new Date('2026-12-31T23:59:59Z'), target: 1_800_000 },
    ]);
    await runEnsureTask();
    expect(await app.db.selectFrom('campaigns').select('slug').execute()).toHaveLength(2);
  });

  it('when the month turns, then the next run adds the month after', async () => {
    app.clock.set('2026-12-01T00:10:00Z');
    await runEnsureTask();
    const slugs = (await app.db.selectFrom('campaigns').select('slug').orderBy('slug').execute()).map((r) => r.slug);
    expect(slugs).toEqual(['2026-11', '2026-12', '2027-01']);
  });

  it('is scheduled hourly in the crontab', async () => {
    const { crontab } = await import('../../src/tasks.js');
    expect(crontab.split('\n')).toContain('0 * * * * ensure-fund-campaigns');
  });

  it('when many requests ask for a missing month at once, then one campaign is created', async () => {
    const at = new Date('2031-07-01T00:00:00Z');
    const campaigns = await Promise.all(Array.from({ length: 8 }, () => getCurrentCampaign(app.deps, at)));
    expect(new Set(campaigns.map((c) => c.id)).size).toBe(1);
    expect(await app.db.selectFrom('campaigns').select('id').where('slug', '=', '2031-07').execute()).toHaveLength(1);
  });
});

describe('the API description', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('describes every fund route, and both GET and POST /donate', async () => {
    const res = await app.request('GET', '/api/openapi.json');
    const paths = res.body.paths as Record<string, Record<string, unknown>>;
    for (const [path, method] of [
      ['/api/fighting-fund', 'get'],
      ['/api/fighting-fund/{slug}', 'get'],
      ['/api/fighting-fund/acknowledgements', 'get'],
      ['/widget/fighting-fund', 'get'],
      ['/widget/fighting-fund.svg', 'get'],
      ['/', 'get'],
      ['/donate', 'get'],
      ['/api/admin/campaigns', 'post'],
      ['/api/admin/campaigns/{slug}', 'patch'],
      ['/api/admin/ledger', 'post'],
      ['/api/admin/ledger/{id}/reverse', 'post'],
      ['/api/admin/ledger.csv', 'get'],
    ] as const) {
      expect(paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    expect(res.body.components.schemas.FundSummary.required).toEqual(
      expect.arrayContaining(['campaign', 'currency', 'target', 'raised', 'remaining', 'daysRemaining', 'percent', 'donationCount']),
    );
  });
});
