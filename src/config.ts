/**
 * The service's configuration: parsed once from the environment (SPEC section 2),
 * validated with zod, frozen. Every wrong value is reported at once, by name.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], {
    error: 'must be true or false',
  })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A whole number of minor units (pence) given in the environment. */
const penceFromEnv = z.coerce
  .number({ error: 'must be a whole number of pence' })
  .int('must be a whole number of pence')
  .positive('must be more than zero')
  .refine(Number.isSafeInteger, 'is too large');

/** Comma-separated amounts in pence: "500,1000,2000". */
const penceList = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()).filter((p) => p !== ''))
  .pipe(z.array(z.string().regex(/^\d{1,12}$/, 'must be whole numbers of pence').transform(Number).refine((n) => n > 0, 'must be more than zero')).min(1).max(6));

const wholeNumberFromEnv = z.coerce
  .number({ error: 'must be a whole number' })
  .int('must be a whole number')
  .nonnegative('must not be negative');

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Europe/London');

const emailList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter((e) => e.length > 0),
  )
  .pipe(z.array(z.email('must be a comma-separated list of email addresses')));

/**
 * TRUST_PROXY in Express's `trust proxy` syntax: `true`/`false`, a hop count, or a
 * comma-separated list of addresses, subnets (CIDR or address/netmask) and the names
 * loopback, linklocal, uniquelocal. Unset: false, the peer address is the client, so
 * nobody chooses their own address for the per-IP limits with X-Forwarded-For.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((s, ctx): boolean | number | string[] => {
    if (s === 'true' || s === 'false') return s === 'true';
    if (/^\d+$/.test(s)) return Number(s);
    const entries = s.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
    const wrong = entries.filter((e) => !isTrustedProxyEntry(e));
    if (entries.length === 0 || wrong.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `must be true, false, a hop count, or addresses and subnets separated by commas (loopback, linklocal, uniquelocal, 10.0.0.0/8, ::1); not ${wrong.join(', ') || 'empty'}`,
      });
      return z.NEVER;
    }
    return entries;
  });

function isTrustedProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, range, ...rest] = entry.split('/');
  if (rest.length > 0 || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (range === undefined) return true;
  if (/^\d+$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

/** The development defaults of the society's identity; NODE_ENV=production refuses to start with any of them. */
export const SOCIETY_PLACEHOLDERS = {
  SOCIETY_NAME: 'Reader Co-op Society Limited',
  SOCIETY_ADDRESS: '1 Press Yard, London, EC1A 1AA',
  SOCIETY_REGISTRATION_NUMBER: 'RS000000',
  SOCIETY_CONTACT_EMAIL: 'hello@example.org',
  SOCIETY_PRIVACY_URL: 'https://example.org/privacy',
  SOCIETY_RULES_URL: 'https://example.org/rules',
} as const;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
    .optional(),
  DATA_DIR: z.string().min(1).default('./var'),
  /** Port of the embedded PostgreSQL server used when DATABASE_URL is unset. */
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(5433),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_/, 'must be a Stripe secret key (sk_test_..., sk_live_...)')
    .optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_/, 'must start with whsec_').optional(),
  STRIPE_API_BASE: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://api.stripe.com'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  /** Unset: the society's name with noreply@ PUBLIC_URL's host. */
  MAIL_FROM: z.string().min(3).optional(),
  AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** The previous AUTH_SECRET during a key rotation: still verifies, never signs. */
  AUTH_SECRET_PREVIOUS: z.string().min(32, 'must be at least 32 characters').optional(),
  ADMIN_EMAILS: emailList.default([]),
  /** Bearer token for GET /metrics; unset, the route answers 404. */
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .regex(/^\S+$/, 'must not contain spaces')
    .optional(),
  TRUST_PROXY: trustProxy.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  // Society rules (SPEC section 1).
  // Who the society is, on every page and email (placeholders in development; production refuses them).
  SOCIETY_NAME: z.string().min(1).default(SOCIETY_PLACEHOLDERS.SOCIETY_NAME),
  SOCIETY_ADDRESS: z.string().min(1).default(SOCIETY_PLACEHOLDERS.SOCIETY_ADDRESS),
  SOCIETY_REGISTRATION_NUMBER: z.string().min(1).default(SOCIETY_PLACEHOLDERS.SOCIETY_REGISTRATION_NUMBER),
  SOCIETY_CONTACT_EMAIL: z.email('must be an email address').default(SOCIETY_PLACEHOLDERS.SOCIETY_CONTACT_EMAIL),
  SOCIETY_PRIVACY_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default(SOCIETY_PLACEHOLDERS.SOCIETY_PRIVACY_URL),
  SOCIETY_RULES_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default(SOCIETY_PLACEHOLDERS.SOCIETY_RULES_URL),
  /** Optional: an image shown at the top of every page and email. */
  SOCIETY_LOGO_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  CURRENCY: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 code such as GBP')
    .transform((s) => s.toUpperCase())
    .default('GBP'),
  TIMEZONE: timeZone.default('Europe/London'),
  FUND_MONTHLY_TARGET: penceFromEnv.default(1_800_000),
  SUPPORTER_PAYMENTS_COUNT_TOWARD_FUND: booleanFromEnv.default(true),
  DONATION_MIN: penceFromEnv.default(100),
  DONATION_MAX: penceFromEnv.default(1_000_000),
  SHARE_PRICE: penceFromEnv.default(100),
  MIN_SHARES: z.coerce.number().int().positive().default(1),
  MAX_HOLDING: penceFromEnv.default(10_000_000),
  MIN_AGE: wholeNumberFromEnv.default(16),
  WITHDRAWAL_NOTICE_DAYS: wholeNumberFromEnv.default(90),
  SUPPORTER_MIN_MONTHLY: penceFromEnv.default(300),
  SUPPORTER_MIN_YEARLY: penceFromEnv.default(3000),
  SUPPORTER_MAX: penceFromEnv.default(100_000),
  SUPPORTER_SUGGESTED_MONTHLY: penceList.default([500, 1000, 2000]),
  SUPPORTER_SUGGESTED_YEARLY: penceList.default([5000, 10000, 20000]),
});

export type Config = Readonly<ReturnType<typeof toConfig>>;

/** Parses the environment, or throws one error that lists every wrong variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(stripEmpty(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = toConfig(parsed.data);
  const problems = productionProblems(config, parsed.data);
  if (problems.length > 0) {
    throw new ConfigError(`Refusing to start with NODE_ENV=production:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return deepFreeze(config);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function toConfig(e: z.infer<typeof envSchema>) {
  const dataDir = path.resolve(e.DATA_DIR);
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const sandbox = !e.STRIPE_SECRET_KEY;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    publicUrl,
    /** False in development without PUBLIC_URL: links and redirects may then follow the address the reader used (lib/readers-host.ts). */
    publicUrlGiven: e.PUBLIC_URL !== undefined,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    embeddedPostgresPort: e.EMBEDDED_POSTGRES_PORT,
    logLevel: e.LOG_LEVEL,
    /** Bearer token for GET /metrics (unset: the route answers 404). */
    metricsToken: e.METRICS_TOKEN,
    /** Express `trust proxy`: which proxies' X-Forwarded-For to believe (false: none). */
    trustProxy: e.TRUST_PROXY ?? false,
    stripe: {
      /** True when no Stripe keys are set: the built-in sandbox stands in for Stripe. */
      sandbox,
      secretKey: e.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      apiBase: e.STRIPE_API_BASE,
    },
    mail: {
      smtpUrl: e.SMTP_URL,
      // Emails come from the society's name; replies go to its contact address (transport.ts).
      from: e.MAIL_FROM ?? `"${e.SOCIETY_NAME.replace(/["\\]/g, '')}" <noreply@${new URL(publicUrl).hostname || 'localhost'}>`,
      replyTo: e.SOCIETY_CONTACT_EMAIL,
      outboxDir: path.join(dataDir, 'outbox'),
    },
    auth: { secret: e.AUTH_SECRET, previousSecret: e.AUTH_SECRET_PREVIOUS, adminEmails: e.ADMIN_EMAILS },
    society: {
      name: e.SOCIETY_NAME,
      address: e.SOCIETY_ADDRESS,
      registrationNumber: e.SOCIETY_REGISTRATION_NUMBER,
      rulesUrl: e.SOCIETY_RULES_URL,
      contactEmail: e.SOCIETY_CONTACT_EMAIL,
      privacyUrl: e.SOCIETY_PRIVACY_URL,
      logoUrl: e.SOCIETY_LOGO_URL,
      currency: e.CURRENCY,
      timeZone: e.TIMEZONE,
    },
    fund: {
      monthlyTarget: e.FUND_MONTHLY_TARGET,
      supporterPaymentsCount: e.SUPPORTER_PAYMENTS_COUNT_TOWARD_FUND,
    },
    donations: { min: e.DONATION_MIN, max: e.DONATION_MAX },
    supporters: {
      min: { month: e.SUPPORTER_MIN_MONTHLY, year: e.SUPPORTER_MIN_YEARLY },
      max: e.SUPPORTER_MAX,
      suggested: { month: e.SUPPORTER_SUGGESTED_MONTHLY, year: e.SUPPORTER_SUGGESTED_YEARLY },
    },
    shares: {
      price: e.SHARE_PRICE,
      minShares: e.MIN_SHARES,
      maxHolding: e.MAX_HOLDING,
      minAge: e.MIN_AGE,
      withdrawalNoticeDays: e.WITHDRAWAL_NOTICE_DAYS,
    },
  };
}

function productionProblems(config: ReturnType<typeof toConfig>, e: z.infer<typeof envSchema>): string[] {
  if (config.env !== 'production') return [];
  const problems: string[] = [];
  if (!e.STRIPE_SECRET_KEY) problems.push('STRIPE_SECRET_KEY is required (the payment sandbox is for development only)');
  if (!e.STRIPE_WEBHOOK_SECRET) problems.push('STRIPE_WEBHOOK_SECRET is required');
  if (!e.AUTH_SECRET) problems.push('AUTH_SECRET is required');
  if (!e.DATABASE_URL) problems.push('DATABASE_URL is required (the embedded database is for development only)');
  if (!e.PUBLIC_URL) problems.push('PUBLIC_URL is required');
  for (const [name, placeholder] of Object.entries(SOCIETY_PLACEHOLDERS)) {
    if (e[name as keyof typeof SOCIETY_PLACEHOLDERS] === placeholder) {
      problems.push(`${name} is still the development placeholder (${placeholder}); set the society's own`);
    }
  }
  return problems;
}

/** An empty variable (FOO=) means "not set", as most people expect. */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined && kv[1] !== ''));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
