/**
 * Keys derived from AUTH_SECRET. Each purpose (session tokens, CSRF tokens,
 * signed links of later components) gets its own key via HKDF, so a value made
 * for one purpose is never accepted for another. During a rotation
 * AUTH_SECRET_PREVIOUS still verifies but never signs.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../lib/logger.js';

export type KeyPurpose = 'session' | 'csrf' | 'signed-link';

const cache = new Map<string, Uint8Array>();

export function deriveKey(secret: string, purpose: KeyPurpose): Uint8Array {
  const cacheKey = `${purpose}\u0000${secret}`;
  let key = cache.get(cacheKey);
  if (!key) {
    key = new Uint8Array(hkdfSync('sha256', secret, 'reader-coop', `reader-coop ${purpose} v1`, 32));
    cache.set(cacheKey, key);
  }
  return key;
}

/** The key that signs, then every key that still verifies (current first). */
export function keysFor(config: Config, purpose: KeyPurpose): { signing: Uint8Array; verifying: Uint8Array[] } {
  const secret = config.auth.secret;
  if (!secret) throw new Error('AUTH_SECRET is not set (the service generates one under DATA_DIR at start)');
  const signing = deriveKey(secret, purpose);
  const verifying = [signing];
  if (config.auth.previousSecret) verifying.push(deriveKey(config.auth.previousSecret, purpose));
  return { signing, verifying };
}

/**
 * Without AUTH_SECRET (development only: production refuses to start without it)
 * a secret is generated once and kept in DATA_DIR/auth-secret, so sessions survive restarts.
 */
export async function withAuthSecret(config: Config, logger: Logger): Promise<Config> {
  if (config.auth.secret) return config;
  const file = path.join(config.dataDir, 'auth-secret');
  let secret: string;
  try {
    secret = (await fs.readFile(file, 'utf8')).trim();
  } catch {
    secret = randomBytes(32).toString('base64url');
    await fs.mkdir(config.dataDir, { recursive: true });
    // 'wx': if another process won the race, use its secret instead of overwriting it.
    await fs.writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(async () => {
      secret = (await fs.readFile(file, 'utf8')).trim();
    });
    logger.warn({ file }, 'AUTH_SECRET is not set: generated one and kept it in DATA_DIR');
  }
  return Object.freeze({ ...config, auth: Object.freeze({ ...config.auth, secret }) });
}
