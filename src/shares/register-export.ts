/**
 * The statutory exports for the board: the register of members, and the duplicate
 * register without holdings, streamed as CSV.
 */
import { rowsByPage } from '../lib/keyset-pages.js';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { Member } from '../db/schema.js';
import { registerPage } from './register.repository.js';
import { localDate } from './share-rules.js';

export type RegisterDeps = Pick<AppDeps, 'config' | 'clock' | 'db' | 'logger'>;

const EXPORT_PAGE_SIZE = 1000;

const registerColumns = [
  'member_number',
  'name',
  'kind',
  'registered_society',
  'address_line1',
  'address_line2',
  'town',
  'postcode',
  'country',
  'email_for_notices',
  'shares_held',
  'amount_paid_pence',
  'currency',
  'admitted_on',
  'ceased_on',
] as const;

const holdingColumns = new Set(['shares_held', 'amount_paid_pence', 'currency']);

/**
 * A spreadsheet opening the file must never run a cell as a formula: text that
 * starts like one (= + - @, or a tab / carriage return) is prefixed with a quote.
 */
export function spreadsheetSafe(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function registerRecord(m: Member): Record<(typeof registerColumns)[number], string | number | null> {
  return {
    member_number: m.number,
    name: m.name,
    kind: m.kind,
    registered_society: m.registered_society ? 'yes' : 'no',
    address_line1: m.address_line1,
    address_line2: m.address_line2,
    town: m.town,
    postcode: m.postcode,
    country: m.country,
    email_for_notices: m.email,
    shares_held: m.shares_held,
    amount_paid_pence: m.amount_paid,
    currency: m.currency.trim(),
    admitted_on: m.admitted_on,
    ceased_on: m.ceased_on,
  };
}

async function* registerRecords(db: Executor) {
  const members = rowsByPage((after: number | null, limit) => registerPage(db, after ?? 0, limit), (m) => m.number, EXPORT_PAGE_SIZE);
  for await (const m of members) yield registerRecord(m);
}

export type RegisterExport = 'register' | 'duplicate';

/** "register-of-members-2026-11-25.csv": dated in the society's calendar. */
export function registerExportFilename(deps: Pick<AppDeps, 'config' | 'clock'>, kind: RegisterExport): string {
  const today = localDate(deps.clock.now(), deps.config.society.timeZone);
  return `${kind === 'register' ? 'register-of-members' : 'duplicate-register'}-${today}.csv`;
}

/**
 * Streams the register (or the duplicate register, without holdings) as CSV into `out`,
 * a page of members at a time from one consistent snapshot, at the pace `out` drains:
 * memory stays flat whatever the number of members. The export itself is audited.
 */
export async function streamRegisterCsv(deps: RegisterDeps, actor: Actor, kind: RegisterExport, out: Writable): Promise<void> {
  await deps.db.transaction().execute((trx) =>
    recordAudit(trx, deps.clock, actor, {
      action: kind === 'register' ? 'register.exported' : 'register.duplicate_exported',
      subjectType: 'register',
      subjectId: 'members',
    }),
  );
  const columns = registerColumns.filter((c) => kind === 'register' || !holdingColumns.has(c));
  try {
    await deps.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        await pipeline(
          Readable.from(registerRecords(trx)),
          stringify({ header: true, columns: [...columns], cast: { string: spreadsheetSafe } }),
          out,
        );
      });
  } catch (err) {
    if (out.destroyed && (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') {
      deps.logger.info({ kind }, 'register export abandoned by the client');
      return;
    }
    throw err;
  }
}
