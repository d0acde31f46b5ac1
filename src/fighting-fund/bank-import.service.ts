/**
 * Bank-statement import: a CSV reduced to `date,amount,reference,name` (and
 * optionally `town,acknowledge,method`) becomes offline gifts, all in one
 * transaction or none. Every row is marked new, already booked (the same method
 * and reference were booked before: skipped, so the same file twice books
 * nothing new) or wrong (then nothing is booked). The columns are described in
 * the README.
 */
import { DateTime } from 'luxon';
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { OfflineMethod } from '../db/schema.js';
import { formatMoney, parseMajorUnits } from '../lib/money.js';
import { getCurrentCampaign } from './campaigns.service.js';
import { invalidateFundCache } from './fund-cache.js';
import { fundError } from './fund.errors.js';
import * as ledger from './ledger.repository.js';
import { toLedgerEntryView, type LedgerEntryView } from './ledger.views.js';
import { isTooOldForAGift, OLDEST_GIFT_YEARS } from './offline-gifts.js';

export const IMPORT_REQUIRED_COLUMNS = ['date', 'amount', 'reference', 'name'] as const;
export const IMPORT_OPTIONAL_COLUMNS = ['town', 'acknowledge', 'method'] as const;
const METHODS: readonly OfflineMethod[] = ['cheque', 'bank_transfer', 'cash', 'standing_order', 'collection', 'other'];
const MAX_ROWS = 5000;

export type ImportRowStatus = 'new' | 'booked' | 'already_booked' | 'wrong';

export interface ImportRow {
  /** The line of the file (the header is line 1). */
  line: number;
  status: ImportRowStatus;
  date: string;
  amount: number | null;
  reference: string;
  name: string | null;
  town: string | null;
  acknowledge: boolean;
  method: string;
  /** What is wrong with the row (status wrong). */
  problems?: string[];
  /** The entry booked before with the same method and reference (already_booked), or booked now (booked). */
  entryId?: number;
  entry?: LedgerEntryView;
}

export interface ImportReport {
  dryRun: boolean;
  rows: ImportRow[];
  counts: { rows: number; new: number; booked: number; alreadyBooked: number; wrong: number };
  /** Pence booked (or that would be, in a dry run). */
  total: number;
  currency: string;
  /** One line per row, for people: "line 2: booked £12.50 bank_transfer REF123 (entry 41)". */
  lines: string[];
}

interface ParsedRow {
  line: number;
  date: string;
  givenAt: Date | null;
  amount: number | null;
  reference: string;
  name: string | null;
  town: string | null;
  acknowledge: boolean;
  method: string;
  problems: string[];
}

/**
 * Parses CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF) into
 * rows of fields. Throws a RangeError for an unterminated quote.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new RangeError('a quoted field is not closed');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  // Blank lines say nothing.
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

function parseDate(text: string, timeZone: string): { date: string; at: Date } | null {
  const t = text.trim();
  let day: DateTime;
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) day = DateTime.fromFormat(t, 'yyyy-MM-dd', { zone: timeZone });
  else if (/^\d{1,2}\/\d{1,2}\/\d{4}$/.test(t)) day = DateTime.fromFormat(t, 'd/M/yyyy', { zone: timeZone });
  else return null;
  if (!day.isValid) return null;
  return { date: day.toISODate()!, at: day.startOf('day').toJSDate() };
}

function parseYesNo(text: string | undefined): boolean | null {
  const t = (text ?? '').trim().toLowerCase();
  if (t === '' || t === 'no' || t === 'n' || t === 'false' || t === '0') return false;
  if (t === 'yes' || t === 'y' || t === 'true' || t === '1') return true;
  return null;
}

function readStatement(text: string, deps: Pick<AppDeps, 'config' | 'clock'>): ParsedRow[] {
  let table: string[][];
  try {
    table = parseCsv(text);
  } catch (err) {
    throw fundError('import_not_csv', 400, `The file is not CSV: ${(err as Error).message}.`);
  }
  const header = (table[0] ?? []).map((h) => h.trim().toLowerCase());
  const missing = IMPORT_REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  const unknown = header.filter((h) => !(IMPORT_REQUIRED_COLUMNS as readonly string[]).includes(h) && !(IMPORT_OPTIONAL_COLUMNS as readonly string[]).includes(h));
  if (missing.length > 0 || unknown.length > 0 || new Set(header).size !== header.length) {
    throw fundError(
      'import_not_csv',
      400,
      `The first line must name the columns: ${IMPORT_REQUIRED_COLUMNS.join(',')} and optionally ${IMPORT_OPTIONAL_COLUMNS.join(',')}.` +
        (missing.length ? ` Missing: ${missing.join(', ')}.` : '') +
        (unknown.length ? ` Not known: ${unknown.join(', ')}.` : ''),
      { missing, unknown },
    );
  }
  if (table.length - 1 > MAX_ROWS) throw fundError('import_not_csv', 400, `At most ${MAX_ROWS} rows at a time.`);
  const now = deps.clock.now();
  const tz = deps.config.society.timeZone;
  const col = (row: string[], name: string) => {
    const at = header.indexOf(name);
    return at < 0 ? undefined : (row[at] ?? '');
  };
  return table.slice(1).map((fields, index) => {
    const problems: string[] = [];
    if (fields.length !== header.length) problems.push(`has ${fields.length} fields, the header ${header.length}`);
    const dateText = col(fields, 'date')!.trim();
    const date = parseDate(dateText, tz);
    if (!date) problems.push(`date "${dateText}" is not YYYY-MM-DD or DD/MM/YYYY`);
    else if (date.at.getTime() > now.getTime()) problems.push(`date ${date.date} is in the future`);
    else if (isTooOldForAGift(date.at, now)) problems.push(`date ${date.date} is more than ${OLDEST_GIFT_YEARS} years ago`);
    const amountText = col(fields, 'amount')!.trim();
    const amount = parseMajorUnits(amountText);
    if (amount === null || amount <= 0) problems.push(`amount "${amountText}" is not a sum of money in pounds such as 12.50`);
    else if (amount > 1_000_000_000) problems.push(`amount ${amountText} is too large`);
    const reference = col(fields, 'reference')!.trim();
    if (!reference) problems.push('reference is empty');
    else if (reference.length > 200) problems.push('reference is longer than 200 characters');
    const name = col(fields, 'name')!.trim() || null;
    const town = col(fields, 'town')?.trim() || null;
    if (name && name.length > 100) problems.push('name is longer than 100 characters');
    if (town && town.length > 100) problems.push('town is longer than 100 characters');
    const acknowledge = parseYesNo(col(fields, 'acknowledge'));
    if (acknowledge === null) problems.push(`acknowledge "${col(fields, 'acknowledge')}" is not yes or no`);
    if (acknowledge && !name) problems.push('a donor to be acknowledged needs a name');
    const method = (col(fields, 'method')?.trim().toLowerCase() || 'bank_transfer').replace(/[\s-]+/g, '_');
    if (!METHODS.includes(method as OfflineMethod)) problems.push(`method "${method}" is not one of ${METHODS.join(', ')}`);
    return {
      line: index + 2,
      date: date?.date ?? dateText,
      givenAt: date?.at ?? null,
      amount: amount !== null && amount > 0 ? amount : null,
      reference,
      name,
      town,
      acknowledge: acknowledge ?? false,
      method,
      problems,
    };
  });
}

/**
 * Previews (dryRun) or books a bank statement. Booking re-checks everything under
 * the offline-gift lock in one transaction: a wrong row means 422 and nothing
 * booked; rows whose method and reference were booked before are skipped.
 */
export async function importBankStatement(deps: AppDeps, actor: Actor, text: string, options: { dryRun: boolean }): Promise<ImportReport> {
  const parsed = readStatement(text, deps);
  if (parsed.length === 0) throw fundError('import_not_csv', 400, 'The file has a header but no rows.');
  // The same method and reference twice in one file: one of them is a mistake, and we cannot tell which.
  const seen = new Map<string, number>();
  for (const row of parsed) {
    const key = `${row.method}\u0000${row.reference.toLowerCase()}`;
    const first = seen.get(key);
    if (row.reference && first !== undefined) row.problems.push(`the same method and reference as line ${first}`);
    else seen.set(key, row.line);
  }
  const currency = deps.config.society.currency;
  const report = await deps.db.transaction().execute(async (trx) => {
    if (!options.dryRun) await ledger.lockOfflineGiftBookings(trx);
    const booked = await ledger.findOfflineGiftsByReference(
      trx,
      parsed.filter((r) => r.reference).map((r) => ({ method: r.method, reference: r.reference })),
    );
    const bookedByKey = new Map(booked.map((b) => [`${b.method}\u0000${b.reference.trim().toLowerCase()}`, b.id]));
    const rows: ImportRow[] = parsed.map((r) => {
      const base = { line: r.line, date: r.date, amount: r.amount, reference: r.reference, name: r.name, town: r.town, acknowledge: r.acknowledge, method: r.method };
      if (r.problems.length > 0) return { ...base, status: 'wrong', problems: r.problems };
      const existing = bookedByKey.get(`${r.method}\u0000${r.reference.toLowerCase()}`);
      if (existing !== undefined) return { ...base, status: 'already_booked', entryId: existing };
      return { ...base, status: 'new' };
    });
    const wrong = rows.filter((r) => r.status === 'wrong');
    if (wrong.length > 0 || options.dryRun) return rows;

    const now = deps.clock.now();
    for (const [i, row] of rows.entries()) {
      if (row.status !== 'new') continue;
      const source = parsed[i]!;
      const campaign = await getCurrentCampaign({ ...deps, db: trx }, source.givenAt!);
      const entry = await ledger.insertEntry(trx, {
        campaign_id: campaign.id,
        kind: 'offline_gift',
        method: source.method as OfflineMethod,
        amount: source.amount!,
        currency: campaign.currency,
        given_at: source.givenAt!,
        recorded_at: now,
        source_ref: source.reference,
        acknowledged: source.acknowledge,
        recorded_by: actor.id,
      });
      const thanks = source.acknowledge && source.name ? { name: source.name, town: source.town } : null;
      if (thanks) await ledger.insertThanks(trx, entry.id, thanks);
      row.status = 'booked';
      row.entryId = entry.id;
      row.entry = toLedgerEntryView(entry, campaign.slug, thanks);
    }
    const bookedRows = rows.filter((r) => r.status === 'booked');
    await recordAudit(trx, deps.clock, actor, {
      action: 'ledger.bank_statement_imported',
      subjectType: 'ledger',
      subjectId: 'import',
      // Entry ids and amounts only: the names live in the entries themselves.
      after: {
        booked: bookedRows.map((r) => ({ entryId: r.entryId, amount: r.amount, method: r.method })),
        alreadyBooked: rows.filter((r) => r.status === 'already_booked').map((r) => r.entryId),
      },
    });
    return rows;
  });
  if (!options.dryRun && report.some((r) => r.status === 'booked')) invalidateFundCache();

  const counts = {
    rows: report.length,
    new: report.filter((r) => r.status === 'new').length,
    booked: report.filter((r) => r.status === 'booked').length,
    alreadyBooked: report.filter((r) => r.status === 'already_booked').length,
    wrong: report.filter((r) => r.status === 'wrong').length,
  };
  const total = report.filter((r) => r.status === 'booked' || r.status === 'new').reduce((s, r) => s + (r.amount ?? 0), 0);
  const result: ImportReport = { dryRun: options.dryRun, rows: report, counts, total, currency, lines: report.map((r) => describeRow(r, currency)) };
  if (counts.wrong > 0) {
    throw fundError('import_rows_invalid', 422, `${counts.wrong} of ${counts.rows} rows are wrong, so nothing was booked. Correct them and import the file again.`, {
      rows: report.filter((r) => r.status === 'wrong').map((r) => ({ line: r.line, problems: r.problems })),
      report: result,
    });
  }
  return result;
}

function describeRow(r: ImportRow, currency: string): string {
  const what = `${r.amount === null ? '?' : formatMoney(r.amount, currency)} ${r.method} ${r.reference || '(no reference)'}`;
  switch (r.status) {
    case 'booked':
      return `line ${r.line}: booked ${what} (entry ${r.entryId})`;
    case 'new':
      return `line ${r.line}: new ${what}`;
    case 'already_booked':
      return `line ${r.line}: already booked ${what} (entry ${r.entryId}), skipped`;
    case 'wrong':
      return `line ${r.line}: wrong: ${(r.problems ?? []).join('; ')}`;
  }
}
