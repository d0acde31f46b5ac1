import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { deriveKey, withAuthSecret } from '../../src/members/auth-keys.js';
import { readSessionCookie, redactSecretsInUrl } from '../../src/members/session.service.js';

describe('session helpers', () => {
  it('reads the session cookie among others, and treats an empty one as none', () => {
    expect(readSessionCookie('a=1; session=abc.def.ghi; b=2')).toBe('abc.def.ghi');
    expect(readSessionCookie('xsession=nope; session=yes')).toBe('yes');
    expect(readSessionCookie('session=')).toBeUndefined();
    expect(readSessionCookie('other=1')).toBeUndefined();
    expect(readSessionCookie(undefined)).toBeUndefined();
  });

  it('derives a different key per purpose and per secret', () => {
    const secret = 'x'.repeat(40);
    const session = Buffer.from(deriveKey(secret, 'session')).toString('hex');
    expect(session).toHaveLength(64);
    expect(Buffer.from(deriveKey(secret, 'csrf')).toString('hex')).not.toBe(session);
    expect(Buffer.from(deriveKey('y'.repeat(40), 'session')).toString('hex')).not.toBe(session);
    expect(Buffer.from(deriveKey(secret, 'session')).toString('hex')).toBe(session);
  });

  it('redacts sign-in tokens from URLs meant for logs', () => {
    expect(redactSecretsInUrl('/auth/callback?token=abc_DEF-123')).toBe('/auth/callback?token=[redacted]');
    expect(redactSecretsInUrl('/x?a=1&token=abc&b=2')).toBe('/x?a=1&token=[redacted]&b=2');
    expect(redactSecretsInUrl('/api/fighting-fund?campaign=2026-11')).toBe('/api/fighting-fund?campaign=2026-11');
  });
});

describe('AUTH_SECRET in development', () => {
  it('when unset, is generated once under DATA_DIR and the same secret is used after a restart', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reader-coop-auth-'));
    try {
      const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
      expect(config.auth.secret).toBeUndefined();
      const logger = createLogger('silent');
      const first = await withAuthSecret(config, logger);
      const second = await withAuthSecret(config, logger);
      expect(first.auth.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(second.auth.secret).toBe(first.auth.secret);
      const stat = await fs.stat(path.join(dataDir, 'auth-secret'));
      expect(stat.mode & 0o777).toBe(0o600);
      // A configured secret is used as it is.
      const given = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, AUTH_SECRET: 'g'.repeat(40) });
      expect((await withAuthSecret(given, logger)).auth.secret).toBe('g'.repeat(40));
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
