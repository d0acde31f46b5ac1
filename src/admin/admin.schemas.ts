/** Request shapes of the admin routes for people, roles and the audit log. */
import { z } from 'zod';
import { instantText } from '../lib/instants.js';

export const auditQuery = z
  .object({
    subjectType: z.string().min(1).max(50).optional(),
    subjectId: z.string().min(1).max(200).optional(),
    actorId: z.uuid().optional(),
    action: z.string().regex(/^[a-z_]+(\.[a-z_]*)*$/, 'must be an action such as person.role_granted, or a prefix such as person.').max(100).optional(),
    from: instantText.optional().meta({ description: 'Entries at or after this instant' }),
    to: instantText.optional().meta({ description: 'Entries before this instant' }),
    before: z.coerce.number().int().positive().optional().meta({ description: 'Paging: entries with an id below this (the previous page\'s nextBefore)' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export const auditEntry = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.object({ id: z.uuid().nullable(), email: z.string().nullable() }).meta({ description: 'null id: the system (a webhook, a job, ADMIN_EMAILS)' }),
    action: z.string(),
    subjectType: z.string(),
    subjectId: z.string(),
    before: z.unknown(),
    after: z.unknown(),
    requestId: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

export const auditPageResponse = z
  .object({ entries: z.array(auditEntry), nextBefore: z.number().int().nullable() })
  .meta({ id: 'AuditPage' });

export const peopleQuery = z
  .object({
    query: z.string().trim().max(200).optional().meta({ description: 'Part of an email address or name' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export const personParams = z.object({ id: z.uuid() });

export const roleParams = z.object({
  id: z.uuid(),
  role: z.enum(['admin', 'treasurer']),
});
