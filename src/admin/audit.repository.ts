import type { Executor } from '../db/database.js';
import type { AuditEntry } from '../db/schema.js';

export interface NewAuditEntry {
  at: Date;
  actorId: string | null;
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
  /** The actor's email address as it is now (case-blind). */
  actorEmail?: string;
  /** Exact action, or a prefix ending in '.' ('person.' for every person action). */
  action?: string;
  /** Entries at or after / before these instants. */
  from?: Date;
  to?: Date;
  /** Entries with an id below this (for paging back through the log). */
  before?: number;
  limit: number;
}

/** An entry with its actor's email as it is now (the log keeps only the id, so an erased actor's email is gone from it). */
export type AuditEntryWithActor = AuditEntry & { actor_email: string | null };

export async function listAuditEntries(db: Executor, query: AuditQuery): Promise<AuditEntryWithActor[]> {
  let q = db
    .selectFrom('audit_log as a')
    .leftJoin('people as p', 'p.id', 'a.actor_id')
    .selectAll('a')
    .select('p.email as actor_email')
    .orderBy('a.id', 'desc')
    .limit(query.limit);
  if (query.subjectType) q = q.where('a.subject_type', '=', query.subjectType);
  if (query.subjectId) q = q.where('a.subject_id', '=', query.subjectId);
  if (query.actorId) q = q.where('a.actor_id', '=', query.actorId);
  if (query.actorEmail) q = q.where((eb) => eb(eb.fn('lower', ['p.email']), '=', query.actorEmail!.toLowerCase()));
  if (query.action) {
    q = query.action.endsWith('.')
      ? q.where('a.action', 'like', `${query.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
      : q.where('a.action', '=', query.action);
  }
  if (query.from) q = q.where('a.at', '>=', query.from);
  if (query.to) q = q.where('a.at', '<', query.to);
  if (query.before !== undefined) q = q.where('a.id', '<', query.before);
  return q.execute();
}
