/**
 * The register of members: admitting members, moving holdings only through
 * share transactions (a member whose holding reaches zero ceases), what a
 * member sees of their shares, certificates, and the statutory exports.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Insertable } from 'kysely';
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { Member, ShareApplication, ShareTransaction, ShareTransactionsTable } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { renderCertificate } from './certificate.js';
import {
  findCurrentMemberForPerson,
  findMember,
  insertMember,
  insertShareTransaction,
  listMembershipsForPerson,
  listTransactionsForMembers,
  markMemberCeased,
  registerPage,
  searchMembers,
  updateMemberDetails,
} from './register.repository.js';
import { localDate } from './share-rules.js';
import type { SharesErrorCode } from './shares.errors.js';
import { listWithdrawalsForMembers, rejectOpenWithdrawals, type WithdrawalRow } from './withdrawals.repository.js';

export type RegisterDeps = Pick<AppDeps, 'config' | 'clock' | 'db' | 'logger'>;

const notAMember = () =>
  new AppError<SharesErrorCode>({ code: 'not_a_member', status: 404, message: 'You are not a member of the society (yet): there are no shares in your name.' });

// ---- admitting and moving holdings ------------------------------------------

/** Enters the applicant in the register; the number is drawn from the sequence. */
export async function admitMember(trx: Executor, application: ShareApplication, admittedOn: string, now: Date): Promise<Member> {
  return insertMember(trx, {
    person_id: application.person_id,
    kind: application.applicant_kind,
    name: application.name,
    address_line1: application.address_line1,
    address_line2: application.address_line2,
    town: application.town,
    postcode: application.postcode,
    country: application.country,
    email: application.email,
    registered_society: application.registered_society,
    admitted_on: admittedOn,
    currency: application.currency,
    created_at: now,
    updated_at: now,
  });
}

/**
 * Appends a share transaction (the database moves the holding with it) and, when the
 * holding reaches zero, records the member's cessation. Undefined when the
 * transaction's Stripe key was already applied.
 */
export async function appendShareTransaction(
  deps: Pick<AppDeps, 'clock' | 'logger'>,
  trx: Executor,
  actor: Actor,
  values: Insertable<ShareTransactionsTable>,
): Promise<{ transaction: ShareTransaction; member: Member } | undefined> {
  const transaction = await insertShareTransaction(trx, values);
  if (!transaction) return undefined;
  let member = (await findMember(trx, transaction.member_id))!;
  if (member.shares_held === 0 && !member.ceased_on) {
    member = await ceaseMember(deps, trx, actor, member, transaction.effective_on);
  }
  return { transaction, member };
}

async function ceaseMember(deps: Pick<AppDeps, 'clock' | 'logger'>, trx: Executor, actor: Actor, member: Member, on: string): Promise<Member> {
  const now = deps.clock.now();
  // A reversal dated before admission (a refund of the very payment that admitted them) ceases on admission day.
  const ceasedOn = on < member.admitted_on ? member.admitted_on : on;
  const ceased = await markMemberCeased(trx, member.id, ceasedOn, now);
  const closed = await rejectOpenWithdrawals(trx, member.id, 'Closed: the member ceased to hold shares.', now);
  await recordAudit(trx, deps.clock, actor, {
    action: 'member.ceased',
    subjectType: 'member',
    subjectId: String(member.number),
    before: { ceasedOn: null, sharesHeld: 0 },
    after: { ceasedOn, closedWithdrawals: closed.map((w) => w.id) },
  });
  deps.logger.info({ memberNumber: member.number, ceasedOn }, 'member ceased: holding reached zero');
  return ceased;
}

/**
 * Keeps a person's register entry in step when they change their own name or postal
 * address (PATCH /api/me, the account page): call it in the same transaction. Only a
 * member who is a person: an organisation's entry is not its contact's name or home.
 * Audited as 'member.details_changed'; nothing happens for someone who is not a member.
 */
export async function followPersonDetails(
  deps: Pick<AppDeps, 'clock'>,
  trx: Executor,
  actor: Actor,
  personId: string,
  change: { name?: string | null; postalAddress?: { line1: string; line2?: string | null; town: string; postcode: string; country: string } | null },
): Promise<Member | undefined> {
  const member = await findCurrentMemberForPerson(trx, personId, { forUpdate: true });
  if (!member || member.kind !== 'person') return undefined;
  const patch: Parameters<typeof updateMemberDetails>[2] = {};
  // The register must always hold a name and an address: clearing them on the account leaves the register as it was.
  if (change.name) patch.name = change.name;
  if (change.postalAddress) {
    const a = change.postalAddress;
    Object.assign(patch, { address_line1: a.line1, address_line2: a.line2 || null, town: a.town, postcode: a.postcode, country: a.country });
  }
  const changed = Object.entries(patch).filter(([k, v]) => member[k as keyof Member] !== v);
  if (changed.length === 0) return member;
  const after = await updateMemberDetails(trx, member.id, Object.fromEntries(changed), deps.clock.now());
  await recordAudit(trx, deps.clock, actor, {
    action: 'member.details_changed',
    subjectType: 'member',
    subjectId: String(member.number),
    before: Object.fromEntries(changed.map(([k]) => [k, member[k as keyof Member]])),
    after: Object.fromEntries(changed),
  });
  return after;
}

// ---- what a member sees -----------------------------------------------------

export interface MemberView {
  number: number;
  kind: 'person' | 'organisation';
  name: string;
  address: { line1: string; line2: string | null; town: string; postcode: string; country: string };
  email: string | null;
  registeredSociety: boolean;
  admittedAt: string;
  ceasedAt: string | null;
  sharesHeld: number;
  amountPaid: number;
  currency: string;
}

export function memberView(m: Member): MemberView {
  return {
    number: m.number,
    kind: m.kind,
    name: m.name,
    address: { line1: m.address_line1, line2: m.address_line2, town: m.town, postcode: m.postcode, country: m.country },
    email: m.email,
    registeredSociety: m.registered_society,
    admittedAt: m.admitted_on,
    ceasedAt: m.ceased_on,
    sharesHeld: m.shares_held,
    amountPaid: m.amount_paid,
    currency: m.currency.trim(),
  };
}

export interface WithdrawalView {
  id: string;
  memberNumber: number;
  memberName: string;
  shares: number;
  status: WithdrawalRow['status'];
  requestedAt: string;
  noticeEndsOn: string;
  decidedAt: string | null;
  note: string | null;
  paidAt: string | null;
  amount: number | null;
}

export function withdrawalView(w: WithdrawalRow): WithdrawalView {
  return {
    id: w.id,
    memberNumber: w.member_number,
    memberName: w.member_name,
    shares: w.shares,
    status: w.status,
    requestedAt: w.requested_at.toISOString(),
    noticeEndsOn: w.notice_ends_on,
    decidedAt: w.decided_at?.toISOString() ?? null,
    note: w.note,
    paidAt: w.paid_at?.toISOString() ?? null,
    amount: w.amount,
  };
}

export interface MemberShares {
  /** The current membership, else the most recent former one; null for someone who never held shares. */
  member: MemberView | null;
  shares: {
    held: number;
    paid: number;
    currency: string;
    transactions: {
      id: number;
      memberNumber: number;
      kind: ShareTransaction['kind'];
      shares: number;
      amount: number;
      currency: string;
      effectiveOn: string;
    }[];
    withdrawals: WithdrawalView[];
    withdrawalNoticeDays: number;
  };
}

/** A person's membership, holding and every share transaction (for GET /api/me and the account page). */
export async function memberSharesForPerson(deps: Pick<AppDeps, 'config' | 'db'>, personId: string): Promise<MemberShares> {
  const memberships = await listMembershipsForPerson(deps.db, personId);
  const shown = memberships.find((m) => !m.ceased_on) ?? memberships[0];
  const ids = memberships.map((m) => m.id);
  const [transactions, withdrawals] = await Promise.all([listTransactionsForMembers(deps.db, ids), listWithdrawalsForMembers(deps.db, ids)]);
  return {
    member: shown ? memberView(shown) : null,
    shares: {
      held: shown?.shares_held ?? 0,
      paid: shown?.amount_paid ?? 0,
      currency: shown?.currency.trim() ?? deps.config.society.currency,
      transactions: transactions.map((t) => ({
        id: t.id,
        memberNumber: t.member_number,
        kind: t.kind,
        shares: t.shares,
        amount: t.amount,
        currency: t.currency.trim(),
        effectiveOn: t.effective_on,
      })),
      withdrawals: withdrawals.map(withdrawalView),
      withdrawalNoticeDays: deps.config.shares.withdrawalNoticeDays,
    },
  };
}

// ---- certificates -----------------------------------------------------------

/** The share certificate of a member as at today. */
export async function certificateFor(deps: Pick<AppDeps, 'config' | 'clock'>, member: Member): Promise<Buffer> {
  const { config } = deps;
  const now = deps.clock.now();
  return renderCertificate({
    society: { name: config.society.name, registrationNumber: config.society.registrationNumber, address: config.society.address },
    member: { name: member.name, number: member.number, kind: member.kind, admittedOn: member.admitted_on },
    sharesHeld: member.shares_held,
    amountPaid: member.amount_paid,
    pricePerShare: config.shares.price,
    currency: member.currency.trim(),
    issuedOn: localDate(now, config.society.timeZone),
    createdAt: now,
  });
}

/** The signed-in person's certificate; 404 not_a_member when they hold no shares. */
export async function certificateForPerson(deps: Pick<AppDeps, 'config' | 'clock' | 'db'>, personId: string): Promise<{ filename: string; pdf: Buffer }> {
  const member = await findCurrentMemberForPerson(deps.db, personId);
  if (!member || member.shares_held === 0) throw notAMember();
  return { filename: `share-certificate-${member.number}.pdf`, pdf: await certificateFor(deps, member) };
}

// ---- the register, for the board ----------------------------------------------

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
  let after = 0;
  for (;;) {
    const page = await registerPage(db, after, EXPORT_PAGE_SIZE);
    for (const m of page) yield registerRecord(m);
    if (page.length < EXPORT_PAGE_SIZE) return;
    after = page[page.length - 1]!.number;
  }
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

/** Admin search of the register by name, email, member number or postcode; paged. */
export async function searchRegister(
  deps: RegisterDeps,
  actor: Actor,
  search: { query?: string; page: number; pageSize: number },
): Promise<{ members: MemberView[]; page: number; pageSize: number; total: number }> {
  const { rows, total } = await searchMembers(deps.db, {
    query: search.query,
    limit: search.pageSize,
    offset: (search.page - 1) * search.pageSize,
  });
  await deps.db.transaction().execute((trx) =>
    recordAudit(trx, deps.clock, actor, {
      action: 'register.searched',
      subjectType: 'register',
      subjectId: 'members',
      after: { query: search.query ?? null, page: search.page, results: rows.length },
    }),
  );
  return { members: rows.map(memberView), page: search.page, pageSize: search.pageSize, total };
}
