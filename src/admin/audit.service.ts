/**
 * The audit trail: every admin action and every change to a person's details,
 * written in the same transaction as the change itself (so one never exists
 * without the other). The table refuses UPDATE and DELETE.
 */
import type { Executor } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { insertAuditEntry, listAuditEntries, type AuditQuery } from './audit.repository.js';

export interface Actor {
  /** The signed-in person, or null for the system (a webhook, a scheduled job). */
  id: string | null;
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

export async function recordAudit(db: Executor, clock: Clock, actor: Actor, record: AuditRecord): Promise<void> {
  await insertAuditEntry(db, {
    at: clock.now(),
    actorId: actor.id,
    actorEmail: actor.email,
    action: record.action,
    subjectType: record.subjectType,
    subjectId: record.subjectId,
    before: record.before ?? null,
    after: record.after ?? null,
    requestId: actor.requestId ?? null,
  });
}

export function listAudit(db: Executor, query: AuditQuery) {
  return listAuditEntries(db, query);
}
