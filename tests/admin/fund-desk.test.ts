/**
 * The treasurer's fund desk: offline gifts refused when their method and reference
 * were booked before, the bank-statement import (preview, one bad row books
 * nothing, the same file twice books nothing new), reversals, the donor list,
 * and the /admin pages doing the same in a browser's forms.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { fundTableCounts, giveOnline, uid } from '../fighting-fund/fund-helpers.js';

async function ledgerCount(app: TestApp): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int8 as n from ledger_entries`.execute(app.db);
  return rows[0]!.n;
}

describe('offline gifts and their references', () => {
  let app: TestApp;
  let headers: Record<string, string>;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    ({ headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] }));
  });
  afterAll(() => app.close());

  it('when a cheque with a number booked before is recorded again, then 409 duplicate_reference and nothing is booked; marked as a second gift, it is booked', async () => {
    const reference = `cheque ${uid()}`;
    const gift = { amount: 2500, method: 'cheque', reference, givenAt: '2026-11-19T10:00:00Z' };
    expect((await app.request('POST', '/api/admin/ledger', { headers, json: gift })).status).toBe(201);
    const before = await fundTableCounts(app);
    const again = await app.request('POST', '/api/admin/ledger', { headers, json: { ...gift, reference: `  ${reference.toUpperCase()} ` } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('duplicate_reference');
    expect(await fundTableCounts(app)).toEqual(before);
    // The same reference by another method is another gift.
    expect((await app.request('POST', '/api/admin/ledger', { headers, json: { ...gift, method: 'bank_transfer' } })).status).toBe(201);
    const second = await app.request('POST', '/api/admin/ledger', { headers, json: { ...gift, secondGift: true } });
    expect(second.status).toBe(201);
    const audit = await app.db.selectFrom('audit_log').select('after').where('subject_id', '=', String(second.body.id)).executeTakeFirstOrThrow();
    expect(audit.after).toMatchObject({ secondGift: true });
  });

  it('when a gift was reversed as a mistake, then the same reference can be booked again, and a second reversal is 409', async () => {
    const reference = `cheque ${uid()}`;
    const gift = { amount: 1000, method: 'cheque', reference, givenAt: '2026-11-19T10:00:00Z' };
    const first = await app.request('POST', '/api/admin/ledger', { headers, json: gift });
    expect((await app.request('POST', `/api/admin/ledger/${first.body.id}/reverse`, { headers, json: { reason: 'wrong amount' } })).status).toBe(201);
    const twice = await app.request('POST', `/api/admin/ledger/${first.body.id}/reverse`, { headers, json: { reason: 'again' } });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('entry_already_reversed');
    expect((await app.request('POST', '/api/admin/ledger', { headers, json: { ...gift, amount: 10000 } })).status).toBe(201);
  });
});

describe('POST /api/admin/ledger/import', () => {
  let app: TestApp;
  let headers: Record<string, string>;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    ({ headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] }));
  });
  afterAll(() => app.close());

  const post = (csv: string, query = '') =>
    app.request('POST', `/api/admin/ledger/import${query}`, { headers: { ...headers, 'content-type': 'text/csv' }, body: csv });

  it('when a statement is previewed, then every row is marked new and nothing is booked; booked, then one line per row; the same file again books nothing new', async () => {
    const ref = uid();
    const csv = [
      'date,amount,reference,name,town,acknowledge',
      `2026-11-18,12.50,SO ${ref} A,Jo Smith,Leeds,yes`,
      `19/11/2026,"1,000.00",TRF ${ref} B,,,`,
      '',
    ].join('\r\n');
    const before = await ledgerCount(app);
    const preview = await post(csv, '?dryRun=true');
    expect(preview.status).toBe(200);
    expect(preview.body.rows.map((r: { status: string }) => r.status)).toEqual(['new', 'new']);
    expect(preview.body.total).toBe(101250);
    expect(await ledgerCount(app)).toBe(before);

    const booked = await post(csv);
    expect(booked.status).toBe(201);
    expect(booked.body.counts).toMatchObject({ rows: 2, booked: 2, alreadyBooked: 0, wrong: 0 });
    expect(booked.body.lines).toHaveLength(2);
    expect(booked.body.lines[0]).toMatch(/^line 2: booked £12\.50 bank_transfer/);
    expect(await ledgerCount(app)).toBe(before + 2);
    const entry = await app.db.selectFrom('ledger_entries').selectAll().where('id', '=', booked.body.rows[0].entryId).executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ kind: 'offline_gift', method: 'bank_transfer', amount: 1250, acknowledged: true });
    const thanks = await app.db.selectFrom('ledger_acknowledgements').selectAll().where('entry_id', '=', entry.id).executeTakeFirstOrThrow();
    expect(thanks).toMatchObject({ name: 'Jo Smith', town: 'Leeds' });
    const anonymous = await app.db.selectFrom('ledger_entries').selectAll().where('id', '=', booked.body.rows[1].entryId).executeTakeFirstOrThrow();
    expect(anonymous).toMatchObject({ amount: 100000, acknowledged: false });
    expect(await app.db.selectFrom('ledger_acknowledgements').selectAll().where('entry_id', '=', anonymous.id).executeTakeFirst()).toBeUndefined();

    const again = await post(csv);
    expect(again.status).toBe(201);
    expect(again.body.counts).toMatchObject({ booked: 0, alreadyBooked: 2 });
    expect(await ledgerCount(app)).toBe(before + 2);
  });

  it('when one row of a statement is wrong, then 422 names it and nothing at all is booked', async () => {
    const ref = uid();
    const csv = [
      'date,amount,reference,name,method',
      `2026-11-18,5.00,${ref}-1,,cheque`,
      `2026-11-31,abc,${ref}-2,,cheque`,
      `2026-11-18,7.00,${ref}-3,,postal_order`,
    ].join('\n');
    const before = await fundTableCounts(app);
    const res = await post(csv);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('import_rows_invalid');
    expect(res.body.error.details.rows.map((r: { line: number }) => r.line)).toEqual([3, 4]);
    expect(res.body.error.details.rows[0].problems.join(' ')).toMatch(/date .* amount/s);
    expect(await fundTableCounts(app)).toEqual(before);
  });

  it('when the header is missing a column or the body is not CSV, then 400 or 415 and nothing is booked', async () => {
    const before = await fundTableCounts(app);
    expect((await post('date,amount,reference\n2026-11-18,5.00,x')).status).toBe(400);
    expect((await post('date,amount,reference,name\n"2026-11-18,5.00,x,')).status).toBe(400);
    const json = await app.request('POST', '/api/admin/ledger/import', { headers, json: { date: '2026-11-18' } });
    expect(json.status).toBe(415);
    expect(await fundTableCounts(app)).toEqual(before);
  });
});

describe('the donor list', () => {
  let app: TestApp;
  let headers: Record<string, string>;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    ({ headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] }));
  });
  afterAll(() => app.close());

  it('when named and anonymous gifts were given on a day, then the list names only those who asked, largest first, and counts the rest', async () => {
    await giveOnline(app, { amount: 5000, acknowledged: true, donorName: 'J Smith', donorTown: 'Leeds', givenAt: new Date('2026-11-19T09:00:00Z') });
    await giveOnline(app, { amount: 1000, acknowledged: false, donorName: 'Secret Person', givenAt: new Date('2026-11-19T10:00:00Z') });
    await giveOnline(app, { amount: 1000, acknowledged: false, givenAt: new Date('2026-11-19T11:00:00Z') });
    await giveOnline(app, { amount: 1000, acknowledged: true, donorName: 'K Brown', givenAt: new Date('2026-11-19T12:00:00Z') });
    // Another day, not on the list.
    await giveOnline(app, { amount: 700, acknowledged: true, donorName: 'Not Today', givenAt: new Date('2026-11-18T12:00:00Z') });
    const res = await app.request('GET', '/api/admin/acknowledgements?from=2026-11-19&to=2026-11-19', { headers });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 4, total: 8000, unnamed: { count: 2, total: 2000 } });
    expect(res.body.named.map((n: { name: string }) => n.name)).toEqual(['J Smith', 'K Brown']);
    expect(res.body.text).toContain('£50 J Smith, Leeds; £10 K Brown; £10 each two readers.');
    expect(res.text).not.toContain('Secret Person');

    const text = await app.request('GET', '/api/admin/acknowledgements?from=2026-11-19&to=2026-11-19', { headers: { ...headers, accept: 'text/plain' } });
    expect(text.headers.get('content-type')).toContain('text/plain');
    expect(text.text).toBe('Fighting fund, 19 November 2026: £80 from 4 gifts.\nThank you: £50 J Smith, Leeds; £10 K Brown; £10 each two readers.\n');
  });

  it('when the range is backwards or not dates, then 400', async () => {
    expect((await app.request('GET', '/api/admin/acknowledgements?from=2026-11-19&to=2026-11-18', { headers })).status).toBe(400);
    expect((await app.request('GET', '/api/admin/acknowledgements?from=yesterday&to=2026-11-18', { headers })).status).toBe(400);
  });
});

describe('the /admin pages of the fund', () => {
  let app: TestApp;
  let headers: Record<string, string>;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    ({ headers } = await signInAs(app, { email: `treasurer-${uid()}@example.org`, roles: ['treasurer'] }));
  });
  afterAll(() => app.close());

  const html = { accept: 'text/html' };

  it('when the treasurer opens Today, then it shows the campaign and what waits', async () => {
    await giveOnline(app, { amount: 2000 });
    const res = await app.request('GET', '/admin', { headers: { ...headers, ...html } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('November 2026 fighting fund');
    expect(res.text).toContain('£20.00');
    expect(res.text).toMatch(/Share withdrawals<\/a>: 0 to decide/);
    expect(res.text).toMatch(/Supporters <strong>0<\/strong> giving £0\.00 a month/);
  });

  it('when the treasurer records a cheque through the form, then it is booked and listed, and the same cheque again is refused on the page until marked a second gift', async () => {
    const reference = `cheque ${uid()}`;
    const form = { amount: '25.00', method: 'cheque', reference, givenOn: '2026-11-19', name: 'Ann Reader', town: 'Hull', acknowledge: 'on' };
    const res = await app.request('POST', '/admin/ledger', { headers: { ...headers, ...html }, form });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/ledger?done=gift_recorded');
    const list = await app.request('GET', '/admin/ledger?method=cheque', { headers: { ...headers, ...html } });
    expect(list.text).toContain(reference);
    expect(list.text).toContain('Ann Reader, Hull');

    const again = await app.request('POST', '/admin/ledger', { headers: { ...headers, ...html }, form });
    expect(again.status).toBe(409);
    expect(again.text).toContain('was booked before');
    expect(again.text).toContain('name="secondGift"');
    const second = await app.request('POST', '/admin/ledger', { headers: { ...headers, ...html }, form: { ...form, secondGift: 'on' } });
    expect(second.status).toBe(303);
  });

  it('when a form post carries neither our Origin nor the page token, then 403 and nothing is booked', async () => {
    const before = await fundTableCounts(app);
    const { origin: _origin, ...cookieOnly } = headers;
    const res = await app.request('POST', '/admin/ledger', {
      headers: { ...cookieOnly, ...html },
      form: { amount: '5', method: 'cash', reference: uid(), givenOn: '2026-11-19' },
    });
    expect(res.status).toBe(403);
    expect(await fundTableCounts(app)).toEqual(before);
  });

  it('when the treasurer uploads a statement, then the preview marks the rows, and booking it books them once', async () => {
    const ref = uid();
    const csv = `date,amount,reference,name\n2026-11-18,3.00,${ref},\n`;
    const upload = (fields: Record<string, string>, file?: string) => {
      const body = new FormData();
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      if (file) body.append('statement', new Blob([file], { type: 'text/csv' }), 'statement.csv');
      return fetch(`${app.url}/admin/import`, { method: 'POST', headers: { ...headers, ...html }, body });
    };
    const before = await ledgerCount(app);
    const preview = await upload({ step: 'preview' }, csv);
    const previewHtml = await preview.text();
    expect(preview.status).toBe(200);
    expect(previewHtml).toContain('status-new');
    expect(previewHtml).toMatch(/Book 1 new gift/);
    expect(await ledgerCount(app)).toBe(before);
    const book = await upload({ step: 'book', csv });
    expect(book.status).toBe(201);
    expect(await book.text()).toContain('Booked 1 new gift');
    expect(await ledgerCount(app)).toBe(before + 1);
    const twice = await upload({ step: 'book', csv });
    expect(await twice.text()).toContain('Booked 0 new gifts');
    expect(await ledgerCount(app)).toBe(before + 1);
  });

  it('when the treasurer creates an appeal and changes its target, then the campaigns page shows it', async () => {
    const slug = `appeal-${uid()}`;
    const created = await app.request('POST', '/admin/campaigns', {
      headers: { ...headers, ...html },
      form: { title: 'Press appeal', slug, target: '5000', startsOn: '2027-01-05', endsOn: '2027-01-20' },
    });
    expect(created.status).toBe(303);
    const changed = await app.request('POST', `/admin/campaigns/${slug}`, { headers: { ...headers, ...html }, form: { target: '6000', endsOn: '2027-01-25' } });
    expect(changed.status).toBe(303);
    const campaign = await app.db.selectFrom('campaigns').selectAll().where('slug', '=', slug).executeTakeFirstOrThrow();
    expect(campaign.target).toBe(600000);
    expect((await app.request('GET', '/admin/campaigns', { headers: { ...headers, ...html } })).text).toContain('Press appeal');
  });

  it('when the change form is posted with every field blank, then 400 names what to give and the campaign is unchanged', async () => {
    const slug = `appeal-${uid()}`;
    await app.request('POST', '/admin/campaigns', {
      headers: { ...headers, ...html },
      form: { title: 'Blank appeal', slug, target: '5000', startsOn: '2027-02-05', endsOn: '2027-02-20' },
    });
    const before = await app.db.selectFrom('campaigns').selectAll().where('slug', '=', slug).executeTakeFirstOrThrow();
    const res = await app.request('POST', `/admin/campaigns/${slug}`, { headers: { ...headers, ...html }, form: {} });
    expect(res.status).toBe(400);
    expect(res.text).toContain('at least one of the title, the target or the deadline');
    expect(await app.db.selectFrom('campaigns').selectAll().where('slug', '=', slug).executeTakeFirstOrThrow()).toEqual(before);
  });

  it('when the treasurer reverses a gift from its page, then the ledger shows the correction', async () => {
    const gift = await app.request('POST', '/api/admin/ledger', { headers, json: { amount: 700, method: 'cash', reference: uid(), givenAt: '2026-11-19T10:00:00Z' } });
    const res = await app.request('POST', `/admin/ledger/${gift.body.id}/reverse`, { headers: { ...headers, ...html }, form: { reason: 'counted twice' } });
    expect(res.status).toBe(303);
    const again = await app.request('POST', `/admin/ledger/${gift.body.id}/reverse`, { headers: { ...headers, ...html }, form: { reason: 'counted twice' } });
    expect(again.status).toBe(409);
    expect((await app.request('GET', '/admin/ledger?kind=correction', { headers: { ...headers, ...html } })).text).toContain('counted twice');
  });

  it('when the donor list page is opened for a day, then it offers the text to paste', async () => {
    await giveOnline(app, { amount: 1500, acknowledged: true, donorName: 'Page Donor', givenAt: new Date('2026-11-20T08:00:00Z') });
    const res = await app.request('GET', '/admin/donors?from=2026-11-20&to=2026-11-20', { headers: { ...headers, ...html } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('£15 Page Donor');
  });
});

describe('the public /acknowledgements page', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
  });
  afterAll(() => app.close());

  it('when named and unnamed donors gave this month, then the page thanks the named ones only, and the home page links to it', async () => {
    await giveOnline(app, { amount: 2500, acknowledged: true, donorName: 'Thanked Reader', donorTown: 'York' });
    await giveOnline(app, { amount: 900, acknowledged: false, donorName: 'Quiet Reader' });
    const res = await app.request('GET', '/acknowledgements', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Thanked Reader, York: £25.00');
    expect(res.text).not.toContain('Quiet Reader');
    const home = await app.request('GET', '/', { headers: { accept: 'text/html' } });
    expect(home.text).toContain('href="/acknowledgements"');
  });
});
