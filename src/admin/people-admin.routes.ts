/**
 * Admin routes for people, roles and the audit log.
 *   GET    /api/admin/audit                       admin or treasurer
 *   GET    /api/admin/people?query=               admin
 *   GET    /api/admin/people/:id                  admin
 *   PUT    /api/admin/people/:id/roles/:role      admin (grant admin or treasurer; idempotent)
 *   DELETE /api/admin/people/:id/roles/:role      admin (revoke; idempotent)
 * Role changes are audited in the same transaction.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../lib/http.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { currentActor, requireRole } from '../members/access.js';
import { getPerson, grantRole, personView, revokeRole, searchPeople } from '../members/people.service.js';
import { auditPageResponse, auditQuery, peopleQuery, personParams, roleParams } from './admin.schemas.js';
import { auditPage } from './audit.service.js';

export function peopleAdminRouter(deps: AppDeps): Router {
  const router = Router();
  const adminOnly = requireRole(deps, 'admin');

  router.get('/api/admin/audit', requireRole(deps, 'admin', 'treasurer'), async (req, res) => {
    const q = parseInput(auditQuery, req.query);
    res.json(
      await auditPage(deps.db, {
        ...q,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
      }),
    );
  });

  router.get('/api/admin/people', adminOnly, async (req, res) => {
    const q = parseInput(peopleQuery, req.query);
    res.json({ people: await searchPeople(deps.db, q.query || undefined, q.limit) });
  });

  router.get('/api/admin/people/:id', adminOnly, async (req, res) => {
    const { id } = parseInput(personParams, req.params);
    res.json(personView(await getPerson(deps.db, id)));
  });

  router.put('/api/admin/people/:id/roles/:role', adminOnly, async (req, res) => {
    const { id, role } = parseInput(roleParams, req.params);
    res.json(await grantRole(deps, currentActor(req), id, role));
  });

  router.delete('/api/admin/people/:id/roles/:role', adminOnly, async (req, res) => {
    const { id, role } = parseInput(roleParams, req.params);
    res.json(await revokeRole(deps, currentActor(req), id, role));
  });

  return router;
}

const person = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    roles: z.array(z.enum(['admin', 'treasurer'])),
  })
  .loose()
  .meta({ id: 'AdminPerson' });

export const peopleAdminOpenApi: ZodOpenApiPathsObject = {
  '/api/admin/audit': {
    get: {
      tags: ['admin'],
      summary: 'The audit log, newest first, paged (admin or treasurer)',
      security: [{ session: [] }],
      requestParams: { query: auditQuery },
      responses: { '200': { description: 'A page of entries', content: { 'application/json': { schema: auditPageResponse } } }, ...errorResponses(400, 401, 403) },
    },
  },
  '/api/admin/people': {
    get: {
      tags: ['admin'],
      summary: 'Find people by email or name (admin)',
      security: [{ session: [] }],
      requestParams: { query: peopleQuery },
      responses: { '200': { description: 'People', content: { 'application/json': { schema: z.object({ people: z.array(person) }) } } }, ...errorResponses(400, 401, 403) },
    },
  },
  '/api/admin/people/{id}': {
    get: {
      tags: ['admin'],
      summary: 'One person (admin)',
      security: [{ session: [] }],
      requestParams: { path: personParams },
      responses: { '200': { description: 'The person', content: { 'application/json': { schema: person } } }, ...errorResponses(400, 401, 403, 404) },
    },
  },
  '/api/admin/people/{id}/roles/{role}': {
    put: {
      tags: ['admin'],
      summary: 'Grant a role (admin only; idempotent; audited)',
      security: [{ session: [] }],
      requestParams: { path: roleParams },
      responses: { '200': { description: 'The person with the role', content: { 'application/json': { schema: person } } }, ...errorResponses(400, 401, 403, 404, 422) },
    },
    delete: {
      tags: ['admin'],
      summary: 'Revoke a role (admin only; idempotent; audited; 422 last_admin for the only admin)',
      security: [{ session: [] }],
      requestParams: { path: roleParams },
      responses: { '200': { description: 'The person without the role', content: { 'application/json': { schema: person } } }, ...errorResponses(400, 401, 403, 404, 422) },
    },
  },
};
