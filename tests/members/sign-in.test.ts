import { randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey } from '../../src/members/auth-keys.js';
import { signSessionToken } from '../../src/members/session.service.js';
import { sessionHeaders, signInAs } from '../support/auth.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}@example.org`;
const ADMIN = unique('configured-admin');

describe('magic-link sign-in against a real SMTP server', () => {
  let smtp: TestSmtp;
  let app: TestApp;
  let origin: string;
  let ip = 0;
  // Each test signs in from an address of its own (the app trusts the loopback proxy's X-Forwarded-For),
  // so the per-IP limit is only met where a test means to.
  const fromNewIp = () => ({ 'x-forwarded-for': `198.51.100.${++ip}` });

  beforeAll(async () => {
    smtp = await startTestSmtp();
    app = await startTestApp({ worker: true, now: '2026-11-20T10:00:00Z', env: { TRUST_PROXY: 'loopback', SMTP_URL: smtp.url, ADMIN_EMAILS: `someone@example.org, ${ADMIN.toUpperCase()}` } });
    origin = new URL(app.config.publicUrl).origin;
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
  });

  async function requestLink(email: string, headers: Record<string, string> = fromNewIp()) {
    const res = await app.request('POST', '/api/auth/login', { json: { email }, headers });
    expect(res.status).toBe(202);
    const mails = await smtp.waitForMail((m) => m.to === email.toLowerCase(), { count: smtp.received.filter((m) => m.to === email.toLowerCase()).length + 1 });
    const mail = mails[mails.length - 1]!;
    const match = new RegExp(`${app.config.publicUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/auth/callback\\?token=([A-Za-z0-9_-]+)`).exec(mail.text);
    expect(match, mail.text).not.toBeNull();
    return { token: match![1]!, mail, path: `/auth/callback?token=${match![1]!}` };
  }

  function sessionCookieOf(res: { headers: Headers }): string | undefined {
    const cookie = res.headers.get('set-cookie');
    return cookie?.match(/(?:^|,\s*)session=([^;]*)/)?.[1] || undefined;
  }

  it('signs a new reader in: request, receive the email, open the link (token still valid), post it, get the cookie, call /api/me', async () => {
    const email = unique('Reader');
    const res = await app.request('POST', '/api/auth/login', { json: { email: `  ${email} ` }, headers: fromNewIp() });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'sent', message: expect.any(String) });

    const [mail] = await smtp.waitForMail((m) => m.to === email.toLowerCase());
    expect(mail!.subject).toContain('sign-in link');
    expect(mail!.text).toContain(app.config.society.name);
    expect(mail!.text).toContain(app.config.society.address);
    const token = /\/auth\/callback\?token=([A-Za-z0-9_-]+)/.exec(mail!.text)![1]!;
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(mail!.html).toContain(`${app.config.publicUrl}/auth/callback?token=${token}`);

    // Stored hashed: the token itself is nowhere in the database.
    const stored = await app.db.selectFrom('login_tokens').selectAll().where('email', '=', email.toLowerCase()).execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.token_hash).not.toContain(token);
    expect(stored[0]!.expires_at.getTime() - app.clock.now().getTime()).toBe(15 * 60 * 1000);
    expect(await app.db.selectFrom('people').select('id').where('email', '=', email.toLowerCase()).executeTakeFirst()).toBeUndefined();

    // Opening the link (as a mail scanner would) does not use it up.
    for (let i = 0; i < 2; i++) {
      const page = await app.request('GET', `/auth/callback?token=${token}`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.text).toContain('action="/auth/callback"');
      expect(page.text).toContain(`name="token" value="${token}"`);
      expect(page.text).toContain('src="/auth/auto-submit.js"');
      expect(page.headers.get('set-cookie')).toBeNull();
    }
    expect((await app.db.selectFrom('login_tokens').select('used_at').where('email', '=', email.toLowerCase()).executeTakeFirstOrThrow()).used_at).toBeNull();

    // The token never reaches the logs (a log reader could sign in with it).
    expect(app.logs.some((l) => l.req && JSON.stringify(l.req).includes('/auth/callback?token=[redacted]'))).toBe(true);
    expect(JSON.stringify(app.logs)).not.toContain(token);

    const signedIn = await app.request('POST', '/auth/callback', { form: { token }, headers: { origin } });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/account');
    const setCookie = signedIn.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^session=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    expect(setCookie).not.toContain('Secure');
    const cookie = sessionCookieOf(signedIn)!;

    const me = await app.request('GET', '/api/me', { headers: { cookie: `session=${cookie}` } });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      person: expect.objectContaining({ email: email.toLowerCase(), name: null, roles: [], postalAddress: null }),
      member: null,
      shares: expect.objectContaining({ held: 0, paid: 0, transactions: [] }),
      supporter: null,
      donations: [],
    });
    expect(me.headers.get('cache-control')).toBe('no-store');
    const person = await app.db.selectFrom('people').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirstOrThrow();
    expect(me.body.person.id).toBe(person.id);
    expect(person.last_signed_in_at?.toISOString()).toBe(app.clock.now().toISOString());

    const page = await app.request('GET', '/account', { headers: { cookie: `session=${cookie}`, accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.text).toContain(email.toLowerCase());
  });

  it('when a used link is posted again, then 401 and no cookie', async () => {
    const email = unique('reuse');
    const { token } = await requestLink(email);
    expect((await app.request('POST', '/auth/callback', { form: { token } })).status).toBe(303);
    const again = await app.request('POST', '/auth/callback', { form: { token } });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('invalid_token');
    expect(again.headers.get('set-cookie')).toBeNull();
    const page = await app.request('GET', `/auth/callback?token=${token}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(page.text).not.toContain(`value="${token}"`);
  });

  it('when the link is older than 15 minutes, then 401 and no cookie', async () => {
    const email = unique('expired');
    const { token } = await requestLink(email);
    app.clock.advance(15 * 60 * 1000 + 1000);
    const res = await app.request('POST', '/auth/callback', { form: { token }, headers: { accept: 'text/html' } });
    expect(res.status).toBe(401);
    expect(res.text).toContain('This sign-in link has been used, has expired or is not valid');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('when a browser posts a forged token, or none, then 401 (or 400) and no cookie', async () => {
    const forged = await app.request('POST', '/auth/callback', { form: { token: Buffer.alloc(32, 7).toString('base64url') } });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('set-cookie')).toBeNull();
    const junk = await app.request('POST', '/auth/callback', { form: { token: "' or 1=1 --" } });
    expect(junk.status).toBe(401);
    const none = await app.request('POST', '/auth/callback', { form: {} });
    expect(none.status).toBe(400);
    expect(none.headers.get('set-cookie')).toBeNull();
  });

  it("when someone posts the token of one email along with another email, then the session is the token's email's and nobody else's", async () => {
    const alice = unique('alice');
    const bob = unique('bob');
    const bobSession = await signInAs(app, { email: bob });
    const { token } = await requestLink(alice);
    const res = await app.request('POST', '/auth/callback', { form: { token, email: bob, personId: bobSession.personId } });
    expect(res.status).toBe(303);
    const me = await app.request('GET', '/api/me', { headers: { cookie: `session=${sessionCookieOf(res)}` } });
    expect(me.body.person.email).toBe(alice);
    expect(me.body.person.id).not.toBe(bobSession.personId);
  });

  it('when one link is used, the other links sent to that address stop working', async () => {
    const email = unique('two-links');
    const first = await requestLink(email);
    const second = await requestLink(email);
    expect((await app.request('POST', '/auth/callback', { form: { token: second.token } })).status).toBe(303);
    expect((await app.request('POST', '/auth/callback', { form: { token: first.token } })).status).toBe(401);
  });

  it('gives the admin role on sign-in to an address in ADMIN_EMAILS, audited as the system', async () => {
    const { token } = await requestLink(ADMIN);
    const res = await app.request('POST', '/auth/callback', { form: { token } });
    const me = await app.request('GET', '/api/me', { headers: { cookie: `session=${sessionCookieOf(res)}` } });
    expect(me.body.person.roles).toEqual(['admin']);
    const audit = await app.db.selectFrom('audit_log').selectAll().where('subject_id', '=', me.body.person.id).execute();
    expect(audit).toEqual([
      expect.objectContaining({ action: 'person.role_granted', actor_id: null, after: expect.objectContaining({ granted: 'admin', source: 'ADMIN_EMAILS' }) }),
    ]);
    const audit2 = await app.request('GET', '/api/admin/audit', { headers: { cookie: `session=${sessionCookieOf(res)}` } });
    expect(audit2.status).toBe(200);
  });

  describe('session tokens', () => {
    it('refuses a token with a forged signature, with alg none, signed with another key, expired, or tampered with', async () => {
      const { personId, token } = await signInAs(app, { email: unique('jwt') });
      const other = await signInAs(app, { email: unique('jwt-other') });
      const call = (t: string) => app.request('GET', '/api/me', { headers: { cookie: `session=${t}` } });
      expect((await call(token)).status).toBe(200);

      const [header, payload, signature] = token.split('.') as [string, string, string];
      const forged = `${header}.${payload}.${Buffer.from(randomUUID()).toString('base64url')}`;
      expect((await call(forged)).status).toBe(401);

      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const unsecured = new UnsecuredJWT(claims).encode();
      expect(unsecured.split('.')[2]).toBe('');
      expect((await call(unsecured)).status).toBe(401);
      const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      expect((await call(`${noneHeader}.${payload}.${signature}`)).status).toBe(401);

      const wrongKey = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(deriveKey('an-entirely-different-secret-of-enough-length', 'session'));
      expect((await call(wrongKey)).status).toBe(401);
      // The raw AUTH_SECRET is not the key either (it is derived per purpose).
      const rawSecret = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(app.config.auth.secret));
      expect((await call(rawSecret)).status).toBe(401);

      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: other.personId })).toString('base64url')}.${signature}`;
      expect((await call(tampered)).status).toBe(401);

      const res = await call('not-a-jwt');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });

      app.clock.advance(14 * 24 * 60 * 60 * 1000 + 1000);
      expect((await call(token)).status).toBe(401);
      expect(personId).toBeTruthy();
    });

    it('when signed out, the old cookie no longer works; signing out everywhere ends every session', async () => {
      const email = unique('signout');
      const first = await signInAs(app, { email });
      const second = await signInAs(app, { email });
      const third = await signInAs(app, { email });

      const out = await app.request('POST', '/api/auth/logout', { headers: first.headers });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/^session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax/);
      expect((await app.request('GET', '/api/me', { headers: first.headers })).status).toBe(401);
      expect((await app.request('GET', '/api/me', { headers: second.headers })).status).toBe(200);

      expect((await app.request('POST', '/api/auth/logout-everywhere', { headers: second.headers })).status).toBe(204);
      expect((await app.request('GET', '/api/me', { headers: second.headers })).status).toBe(401);
      expect((await app.request('GET', '/api/me', { headers: third.headers })).status).toBe(401);
      const fresh = await signInAs(app, { email });
      expect((await app.request('GET', '/api/me', { headers: fresh.headers })).status).toBe(200);
    });

    it('during a key rotation, a session signed with the previous secret still works, and new ones are signed with the new secret', async () => {
      const previous = 'the-previous-secret-the-previous-secret-0123';
      const rotated = await startTestApp({ env: { AUTH_SECRET_PREVIOUS: previous } });
      try {
        const { personId, token: current } = await signInAs(rotated, { email: unique('rotation') });
        const person = await rotated.db.selectFrom('people').selectAll().where('id', '=', personId).executeTakeFirstOrThrow();
        const old = await signSessionToken({ config: { ...rotated.config, auth: { ...rotated.config.auth, secret: previous } }, clock: rotated.clock }, person);
        expect((await rotated.request('GET', '/api/me', { headers: sessionHeaders(rotated, old.token) })).status).toBe(200);
        expect((await rotated.request('GET', '/api/me', { headers: sessionHeaders(rotated, current) })).status).toBe(200);
        // The app started without the previous secret does not accept it.
        expect((await app.request('GET', '/api/me', { headers: sessionHeaders(app, old.token) })).status).toBe(401);
      } finally {
        await rotated.close();
      }
    });
  });

  describe('rate limits', () => {
    it('when a flood asks for links to one address from everywhere, then every answer is the same 202, only 5 links are sent, and the owner still signs in', async () => {
      const victim = unique('victim');
      await signInAs(app, { email: victim, roles: ['admin'] });
      const answers = [];
      for (let i = 0; i < 12; i++) answers.push(await app.request('POST', '/api/auth/login', { json: { email: victim }, headers: fromNewIp() }));
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(202));
      expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
      const usable = () => app.db.selectFrom('login_tokens').select('id').where('email', '=', victim).where('used_at', 'is', null).execute();
      expect(await usable()).toHaveLength(5);
      expect(app.logs.some((l) => l.msg === 'sign-in link not sent: the address has enough unused links waiting')).toBe(true);

      // The owner's own request is not refused, and a link waiting in the inbox works.
      expect((await app.request('POST', '/api/auth/login', { json: { email: victim }, headers: fromNewIp() })).status).toBe(202);
      const mails = await smtp.waitForMail((m) => m.to === victim, { count: 5 });
      expect(mails).toHaveLength(5);
      const token = /\/auth\/callback\?token=([A-Za-z0-9_-]+)/.exec(mails[4]!.text)![1]!;
      const signedIn = await app.request('POST', '/auth/callback', { form: { token }, headers: { origin } });
      expect(signedIn.status).toBe(303);
      expect(sessionCookieOf(signedIn)).toBeDefined();

      // Using one voids the rest, so the owner's next request sends a fresh link at once.
      expect(await usable()).toHaveLength(0);
      expect((await app.request('POST', '/api/auth/login', { json: { email: victim }, headers: fromNewIp() })).status).toBe(202);
      expect(await usable()).toHaveLength(1);

      // Links expire after 15 minutes, and then new ones are sent again.
      for (let i = 0; i < 6; i++) await app.request('POST', '/api/auth/login', { json: { email: victim }, headers: fromNewIp() });
      expect(await usable()).toHaveLength(5);
      app.clock.advance(15 * 60 * 1000);
      expect((await app.request('POST', '/api/auth/login', { json: { email: victim }, headers: fromNewIp() })).status).toBe(202);
      expect((await app.db.selectFrom('login_tokens').select('id').where('email', '=', victim).where('expires_at', '>', app.clock.now()).execute())).toHaveLength(1);
    });

    it('when one IP address floods the login with different addresses, then 429 after 20', async () => {
      const headers = { 'x-forwarded-for': '203.0.113.77' };
      const statuses = [];
      for (let i = 0; i < 21; i++) statuses.push((await app.request('POST', '/api/auth/login', { json: { email: unique(`flood${i}`) }, headers })).status);
      expect(statuses.slice(0, 20).every((s) => s === 202)).toBe(true);
      expect(statuses[20]).toBe(429);
      // Another address is not held back by it.
      expect((await app.request('POST', '/api/auth/login', { json: { email: unique('elsewhere') }, headers: fromNewIp() })).status).toBe(202);
    });

    it('answers a malformed address with 400 and sends nothing', async () => {
      const res = await app.request('POST', '/api/auth/login', { json: { email: 'not an address' }, headers: fromNewIp() });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      const wrongType = await app.request('POST', '/api/auth/login', { json: { email: ['a@example.org'] }, headers: fromNewIp() });
      expect(wrongType.status).toBe(400);
    });
  });

  describe('cross-site requests', () => {
    it('refuses a state-changing request that carries the session cookie but comes from another origin', async () => {
      const { headers, personId } = await signInAs(app, { email: unique('csrf') });
      const evil = { cookie: headers.cookie!, origin: 'https://evil.example' };
      const res = await app.request('PATCH', '/api/me', { json: { name: 'Pwned' }, headers: evil });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('cross_site_request');
      const logout = await app.request('POST', '/api/auth/logout', { headers: evil });
      expect(logout.status).toBe(403);
      const nullOrigin = await app.request('PATCH', '/api/me', { json: { name: 'Pwned' }, headers: { cookie: headers.cookie!, origin: 'null' } });
      expect(nullOrigin.status).toBe(403);
      // Without Origin, a form must carry the page's CSRF token.
      const noOrigin = await app.request('POST', '/account/details', { form: { name: 'Pwned' }, headers: { cookie: headers.cookie! } });
      expect(noOrigin.status).toBe(403);
      const person = await app.db.selectFrom('people').select('name').where('id', '=', personId).executeTakeFirstOrThrow();
      expect(person.name).toBeNull();
      // The same request from our own origin goes through.
      expect((await app.request('PATCH', '/api/me', { json: { name: 'Ann' }, headers })).status).toBe(200);
    });

    it('accepts a form post without Origin when it carries the CSRF token of the account page', async () => {
      const { headers, personId } = await signInAs(app, { email: unique('csrf-form') });
      const page = await app.request('GET', '/account', { headers: { cookie: headers.cookie!, accept: 'text/html' } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
      const wrong = await app.request('POST', '/account/details', { form: { name: 'Ann', _csrf: `${csrf}x` }, headers: { cookie: headers.cookie! } });
      expect(wrong.status).toBe(403);
      const res = await app.request('POST', '/account/details', { form: { name: 'Ann Form', _csrf: csrf }, headers: { cookie: headers.cookie! } });
      expect(res.status).toBe(303);
      // A browser that says `Origin: null` is judged by the token too.
      const nullOriginWithToken = await app.request('POST', '/account/details', { form: { name: 'Ann Form', _csrf: csrf }, headers: { cookie: headers.cookie!, origin: 'null' } });
      expect(nullOriginWithToken.status).toBe(303);
      expect((await app.db.selectFrom('people').select('name').where('id', '=', personId).executeTakeFirstOrThrow()).name).toBe('Ann Form');
    });

    it('lets cookie-less requests through from anywhere, but refuses a foreign sign-in callback post', async () => {
      const login = await app.request('POST', '/api/auth/login', { json: { email: unique('nocookie') }, headers: { origin: 'https://news.example', ...fromNewIp() } });
      expect(login.status).toBe(202);
      const { token } = await requestLink(unique('login-csrf'));
      const foreign = await app.request('POST', '/auth/callback', { form: { token }, headers: { origin: 'https://evil.example' } });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('set-cookie')).toBeNull();
      // The token was not used up by the refused attempt.
      expect((await app.request('POST', '/auth/callback', { form: { token }, headers: { origin } })).status).toBe(303);
    });
  });
});
