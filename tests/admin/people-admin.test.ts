import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAs } from '../support/auth.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}@example.org`;

describe('admin: roles, people and the audit log', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T12:00:00Z' });
  });
  afterAll(() => app.close());

  it('answers 401 without a session and 403 with the wrong role on every admin route of this component', async () => {
    const reader = await signInAs(app, { email: unique('reader') });
    const treasurer = await signInAs(app, { email: unique('treasurer'), roles: ['treasurer'] });
    const target = reader.personId;
    const routes = [
      { method: 'GET', path: '/api/admin/audit', treasurer: 200 },
      { method: 'GET', path: '/api/admin/people', treasurer: 403 },
      { method: 'GET', path: `/api/admin/people/${target}`, treasurer: 403 },
      { method: 'PUT', path: `/api/admin/people/${target}/roles/treasurer`, treasurer: 403 },
      { method: 'DELETE', path: `/api/admin/people/${target}/roles/treasurer`, treasurer: 403 },
    ];
    for (const r of routes) {
      const anonymous = await app.request(r.method, r.path, { headers: { origin: new URL(app.config.publicUrl).origin } });
      expect(anonymous.status, `${r.method} ${r.path} anonymous`).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthenticated');
      const plain = await app.request(r.method, r.path, { headers: reader.headers });
      expect(plain.status, `${r.method} ${r.path} reader`).toBe(403);
      expect(plain.body.error.code).toBe('forbidden');
      const asTreasurer = await app.request(r.method, r.path, { headers: treasurer.headers });
      expect(asTreasurer.status, `${r.method} ${r.path} treasurer`).toBe(r.treasurer);
    }
    // The treasurer's refused attempt changed nothing.
    expect((await app.db.selectFrom('people').select('roles').where('id', '=', target).executeTakeFirstOrThrow()).roles).toEqual([]);
  });

  it('when an admin grants treasurer, then it takes effect at once and is audited; revoking it takes it away at once', async () => {
    const admin = await signInAs(app, { email: unique('admin'), roles: ['admin'] });
    const person = await signInAs(app, { email: unique('new-treasurer') });
    expect((await app.request('GET', '/api/admin/audit', { headers: person.headers })).status).toBe(403);

    const granted = await app.request('PUT', `/api/admin/people/${person.personId}/roles/treasurer`, { headers: admin.headers });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ id: person.personId, roles: ['treasurer'] });
    // The same session, without signing in again.
    expect((await app.request('GET', '/api/admin/audit', { headers: person.headers })).status).toBe(200);
    // Granting again changes nothing and is not audited twice.
    expect((await app.request('PUT', `/api/admin/people/${person.personId}/roles/treasurer`, { headers: admin.headers })).status).toBe(200);

    const revoked = await app.request('DELETE', `/api/admin/people/${person.personId}/roles/treasurer`, { headers: admin.headers });
    expect(revoked.status).toBe(200);
    expect(revoked.body.roles).toEqual([]);
    expect((await app.request('GET', '/api/admin/audit', { headers: person.headers })).status).toBe(403);

    const audit = await app.db.selectFrom('audit_log').selectAll().where('subject_id', '=', person.personId).orderBy('id').execute();
    // The log keeps the actor's id only; the page shows their email as it is now.
    const page = await app.request('GET', `/api/admin/audit?subjectId=${person.personId}`, { headers: admin.headers });
    expect(page.body.entries.at(-1)).toMatchObject({ action: 'person.role_granted', actor: { id: admin.personId, email: expect.stringContaining('admin-') } });
    expect(audit.map((a) => a.action)).toEqual(['person.role_granted', 'person.role_revoked']);
    expect(audit[0]).toMatchObject({
      actor_id: admin.personId,
      subject_type: 'person',
      before: { roles: [] },
      after: { roles: ['treasurer'], granted: 'treasurer' },
    });
    expect(audit[0]!.request_id).toBeTruthy();
  });

  it('refuses an unknown role, a malformed id and an unknown person without changing anything', async () => {
    const admin = await signInAs(app, { email: unique('admin2'), roles: ['admin'] });
    const person = await signInAs(app, { email: unique('someone') });
    expect((await app.request('PUT', `/api/admin/people/${person.personId}/roles/superuser`, { headers: admin.headers })).status).toBe(400);
    expect((await app.request('PUT', '/api/admin/people/not-a-uuid/roles/admin', { headers: admin.headers })).status).toBe(400);
    const missing = await app.request('PUT', `/api/admin/people/${randomUUID()}/roles/admin`, { headers: admin.headers });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('person_not_found');
    expect((await app.db.selectFrom('audit_log').select('id').where('subject_id', '=', person.personId).execute())).toHaveLength(0);
  });

  it('never removes the last admin', async () => {
    const lone = await startTestApp();
    try {
      const admin = await signInAs(lone, { email: unique('lone-admin'), roles: ['admin'] });
      const res = await lone.request('DELETE', `/api/admin/people/${admin.personId}/roles/admin`, { headers: admin.headers });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('last_admin');
      const second = await signInAs(lone, { email: unique('second-admin') });
      expect((await lone.request('PUT', `/api/admin/people/${second.personId}/roles/admin`, { headers: admin.headers })).status).toBe(200);
      expect((await lone.request('DELETE', `/api/admin/people/${admin.personId}/roles/admin`, { headers: second.headers })).status).toBe(200);
      // The former admin's session no longer opens admin routes.
      expect((await lone.request('GET', '/api/admin/people', { headers: admin.headers })).status).toBe(403);
    } finally {
      await lone.close();
    }
  });

  it('finds people by email or name for an admin', async () => {
    const admin = await signInAs(app, { email: unique('finder'), roles: ['admin'] });
    const email = unique('Findable');
    const person = await signInAs(app, { email, name: 'Rosa 100%_Findable' });
    const byEmail = await app.request('GET', `/api/admin/people?query=${encodeURIComponent(email.slice(0, 16))}`, { headers: admin.headers });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.people.map((p: { id: string }) => p.id)).toEqual([person.personId]);
    const byName = await app.request('GET', `/api/admin/people?query=${encodeURIComponent('100%_find')}`, { headers: admin.headers });
    expect(byName.body.people.map((p: { id: string }) => p.id)).toEqual([person.personId]);
    const one = await app.request('GET', `/api/admin/people/${person.personId}`, { headers: admin.headers });
    expect(one.body).toMatchObject({ id: person.personId, email: email.toLowerCase(), name: 'Rosa 100%_Findable' });
  });

  it('pages through the audit log newest first, with filters', async () => {
    const admin = await signInAs(app, { email: unique('auditor'), roles: ['admin'] });
    const subject = await signInAs(app, { email: unique('audited') });
    for (const role of ['treasurer', 'admin'] as const) {
      await app.request('PUT', `/api/admin/people/${subject.personId}/roles/${role}`, { headers: admin.headers });
    }
    await app.request('DELETE', `/api/admin/people/${subject.personId}/roles/treasurer`, { headers: admin.headers });

    const first = await app.request('GET', `/api/admin/audit?subjectType=person&subjectId=${subject.personId}&limit=2`, { headers: admin.headers });
    expect(first.status).toBe(200);
    expect(first.body.entries.map((e: { action: string }) => e.action)).toEqual(['person.role_revoked', 'person.role_granted']);
    expect(first.body.entries[0]).toMatchObject({ actor: { id: admin.personId }, subjectType: 'person', subjectId: subject.personId, at: '2026-11-20T12:00:00.000Z' });
    expect(first.body.nextBefore).toEqual(first.body.entries[1].id);
    const second = await app.request('GET', `/api/admin/audit?subjectId=${subject.personId}&limit=2&before=${first.body.nextBefore}`, { headers: admin.headers });
    expect(second.body.entries.map((e: { after: { granted?: string } }) => e.after.granted)).toEqual(['treasurer']);
    expect(second.body.nextBefore).toBeNull();

    const granted = await app.request('GET', `/api/admin/audit?actorId=${admin.personId}&action=person.role_granted`, { headers: admin.headers });
    expect(granted.body.entries).toHaveLength(2);
    const prefix = await app.request('GET', `/api/admin/audit?actorId=${admin.personId}&action=person.`, { headers: admin.headers });
    expect(prefix.body.entries).toHaveLength(3);
    const later = await app.request('GET', `/api/admin/audit?actorId=${admin.personId}&from=2026-11-21T00:00:00Z`, { headers: admin.headers });
    expect(later.body.entries).toHaveLength(0);

    for (const bad of ['limit=0', 'limit=1000', 'before=abc', 'actorId=nope', 'action=DROP%20TABLE', 'unknown=1']) {
      const res = await app.request('GET', `/api/admin/audit?${bad}`, { headers: admin.headers });
      expect(res.status, bad).toBe(400);
    }
  });

  it('lists every route of this component in the OpenAPI description', async () => {
    const doc = (await app.request('GET', '/api/openapi.json')).body;
    for (const path of ['/api/auth/login', '/auth/callback', '/api/auth/logout', '/api/auth/logout-everywhere', '/api/me', '/api/me/export', '/api/me/erasure', '/account', '/api/admin/audit', '/api/admin/people', '/api/admin/people/{id}', '/api/admin/people/{id}/roles/{role}']) {
      expect(doc.paths[path], path).toBeTruthy();
    }
  });
});
