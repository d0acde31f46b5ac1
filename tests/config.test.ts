import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const productionEnv = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://coop.example.org',
  DATABASE_URL: 'postgres://coop@db.example.org/coop',
  STRIPE_SECRET_KEY: 'sk_live_abc123',
  STRIPE_WEBHOOK_SECRET: 'whsec_abc123',
  AUTH_SECRET: 'a-long-production-secret-of-forty-characters',
  SOCIETY_NAME: 'Morning Star Readers Co-operative Society Limited',
  SOCIETY_ADDRESS: '52 Beachy Road, London, E3 2NS',
  SOCIETY_REGISTRATION_NUMBER: 'IP31347R',
  SOCIETY_CONTACT_EMAIL: 'office@coop.example.org',
  SOCIETY_PRIVACY_URL: 'https://coop.example.org/privacy',
  SOCIETY_RULES_URL: 'https://coop.example.org/rules',
};

describe('configuration', () => {
  it('with nothing set, then it runs on its defaults: embedded database, sandbox payments, the society rules of SPEC 1', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.stripe.sandbox).toBe(true);
    expect(config.stripe.apiBase).toBe('https://api.stripe.com');
    expect(config.mail.from).toBe('"Reader Co-op Society Limited" <noreply@localhost>');
    expect(config.mail.replyTo).toBe('hello@example.org');
    expect(config.society).toMatchObject({ currency: 'GBP', timeZone: 'Europe/London' });
    expect(config.fund.monthlyTarget).toBe(1_800_000);
    expect(config.shares).toMatchObject({ price: 100, minShares: 1, maxHolding: 10_000_000, minAge: 16 });
    expect(Object.isFrozen(config.shares)).toBe(true);
  });

  it('when PORT is set, then PUBLIC_URL defaults to it, and ADMIN_EMAILS is read as a lower-cased list', () => {
    const config = loadConfig({ PORT: '8080', ADMIN_EMAILS: ' Editor@Example.org, treasurer@example.org ,' });
    expect(config.publicUrl).toBe('http://localhost:8080');
    expect(config.auth.adminEmails).toEqual(['editor@example.org', 'treasurer@example.org']);
  });

  it('when several values are wrong, then one error names every wrong variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', SHARE_PRICE: '1.5', TIMEZONE: 'Mars/Olympus', ADMIN_EMAILS: 'not-an-email', SMTP_URL: 'http://mail' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'SHARE_PRICE', 'TIMEZONE', 'ADMIN_EMAILS', 'SMTP_URL']) expect(message).toContain(name);
    expect(message).toContain('IANA time zone');
  });

  it('when NODE_ENV=production lacks Stripe keys, AUTH_SECRET or DATABASE_URL, then it refuses to start and says which', () => {
    expect(() => loadConfig(productionEnv)).not.toThrow();
    for (const missing of ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'AUTH_SECRET', 'DATABASE_URL']) {
      const env: Record<string, string> = { ...productionEnv };
      delete env[missing];
      expect(() => loadConfig(env), missing).toThrow(new RegExp(`production[\\s\\S]*${missing}`));
    }
  });

  it("when NODE_ENV=production would show a placeholder of the society's identity, then it refuses to start and names each", () => {
    for (const name of ['SOCIETY_NAME', 'SOCIETY_ADDRESS', 'SOCIETY_REGISTRATION_NUMBER', 'SOCIETY_CONTACT_EMAIL', 'SOCIETY_PRIVACY_URL', 'SOCIETY_RULES_URL']) {
      const env = Object.fromEntries(Object.entries(productionEnv).filter(([key]) => key !== name));
      expect(() => loadConfig(env), name).toThrow(new RegExp(`production[\\s\\S]*${name} is still the development placeholder`));
    }
    // The logo is optional.
    expect(loadConfig(productionEnv).society.logoUrl).toBeUndefined();
    expect(loadConfig({ ...productionEnv, SOCIETY_LOGO_URL: 'https://coop.example.org/logo.png' }).society.logoUrl).toBe('https://coop.example.org/logo.png');
  });

  it('when a variable is set but empty, then it counts as unset', () => {
    expect(loadConfig({ STRIPE_SECRET_KEY: '', DATABASE_URL: '' })).toMatchObject({ databaseUrl: undefined, stripe: { sandbox: true } });
  });

  it('when TRUST_PROXY is unset, then no proxy is trusted; when set, then Express trust proxy syntax is read and nonsense refused by name', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, 192.168.1.0/255.255.255.0, ::1, fd00::/8' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      '192.168.1.0/255.255.255.0',
      '::1',
      'fd00::/8',
    ]);
    for (const wrong of ['everyone', '10.0.0.0/33', '300.1.1.1', '10.0.0.1/8/8']) {
      expect(() => loadConfig({ TRUST_PROXY: wrong }), wrong).toThrow(/TRUST_PROXY/);
    }
  });
});
