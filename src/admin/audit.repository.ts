import type { Executor } from '../db/database.js';
import type { AuditEntry } from '../db/schema.js';

export interface NewAuditEntry {
  at: Date;
  actorId: string | null;
  actorEmail: string | null;
  action: string;
  subjectType: string;
  subjectId: string;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

export async function insertAuditEntry(db: Executor, entry: NewAuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: entry.at,
      actor_id: entry.actorId,
      actor_email: entry.actorEmail,
      action: entry.action,
      subject_type: entry.subjectType,
      subject_id: entry.subjectId,
      before: entry.before === undefined || entry.before === null ? null : JSON.stringify(entry.before),
      after: entry.after === undefined || entry.after === null ? null : JSON.stringify(entry.after),
      request_id: entry.requestId,
    })
    .execute();
}

export interface AuditQuery {
  subjectType?: string;
  subjectId?: string;
  actorId?: string;
  /** Exact action, or a prefix ending in '.' ('person.' for every person action). */
  action?: string;
  /** Entries at or after / before these instants. */
  from?: Date;
  to?: Date;
  /** Entries with an id below this (for paging back through the log). */
  before?: number;
  limit: number;
}

export async function listAuditEntries(db: Executor, query: AuditQuery): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(query.limit);
  if (query.subjectType) q = q.where('subject_type', '=', query.subjectType);
  if (query.subjectId) q = q.where('subject_id', '=', query.subjectId);
  if (query.actorId) q = q.where('actor_id', '=', query.actorId);
  if (query.action) {
    q = query.action.endsWith('.')
      ? q.where('action', 'like', `${query.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
      : q.where('action', '=', query.action);
  }
  if (query.from) q = q.where('at', '>=', query.from);
  if (query.to) q = q.where('at', '<', query.to);
  if (query.before !== undefined) q = q.where('id', '<', query.before);
  return q.execute();
}
