/**
 * The audit trail: every admin action and every change to a person's details,
 * written in the same transaction as the change itself (so one never exists
 * without the other). The table refuses UPDATE and DELETE, so it holds no
 * personal data: which fields changed, never their values; the actor by id.
 */
import type { Executor } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { insertAuditEntry, listAuditEntries, type AuditQuery } from './audit.repository.js';

export interface Actor {
  /** The signed-in person, or null for the system (a webhook, a scheduled job). */
  id: string | null;
  /** For logs and messages; never written to the audit log (its email is read from people when shown). */
  email: string | null;
  requestId?: string | null;
}

export const systemActor: Actor = { id: null, email: null };

export interface AuditRecord {
  /** 'component.verb', e.g. 'ledger.offline_gift_recorded', 'person.details_changed'. */
  action: string;
  subjectType: string;
  subjectId: string;
  before?: unknown;
  after?: unknown;
}

/**
 * Keys whose values are a person's name, contact or address (or words typed to find one).
 * recordAudit drops them wherever they appear in `before`/`after`: a caller that forgets
 * still cannot put them in the append-only log. Record `{ fields: [...] }` instead.
 */
export const PERSONAL_AUDIT_KEYS: ReadonlySet<string> = new Set([
  'name', 'town', 'email', 'phone', 'query',
  'address', 'postalAddress', 'line1', 'line2', 'postcode',
  'address_line1', 'address_line2',
  'donorName', 'donorTown', 'donor_name', 'donor_town',
  'dateOfBirth', 'date_of_birth',
]);

function withoutPersonalData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPersonalData);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !PERSONAL_AUDIT_KEYS.has(key))
      .map(([key, v]) => [key, withoutPersonalData(v)]),
  );
}

/** The names of the fields whose values differ between two records (what an audit entry of a change keeps). */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null)).sort();
}

export async function recordAudit(db: Executor, clock: Clock, actor: Actor, record: AuditRecord): Promise<void> {
  await insertAuditEntry(db, {
    at: clock.now(),
    actorId: actor.id,
    action: record.action,
    subjectType: record.subjectType,
    subjectId: record.subjectId,
    before: withoutPersonalData(record.before ?? null),
    after: withoutPersonalData(record.after ?? null),
    requestId: actor.requestId ?? null,
  });
}

export function listAudit(db: Executor, query: AuditQuery) {
  return listAuditEntries(db, query);
}

export interface AuditEntryView {
  id: number;
  at: string;
  actor: { id: string | null; email: string | null };
  action: string;
  subjectType: string;
  subjectId: string;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

/** One page of the log, newest first; `nextBefore` fetches the next (older) page. */
export async function auditPage(db: Executor, query: AuditQuery): Promise<{ entries: AuditEntryView[]; nextBefore: number | null }> {
  // One more than asked for tells whether there is a next page.
  const rows = await listAuditEntries(db, { ...query, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  return {
    entries: page.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actor: { id: r.actor_id, email: r.actor_email },
      action: r.action,
      subjectType: r.subject_type,
      subjectId: r.subject_id,
      before: r.before,
      after: r.after,
      requestId: r.request_id,
    })),
    nextBefore: rows.length > query.limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}
