/** Helpers of the shares tests: applying, paying through the fake Stripe, reading the register. */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApp, TestResponse } from '../support/test-app.js';

export const NOW = '2026-11-25T12:00:00Z';

/** An email address no other test uses. */
export function uniqueEmail(label = 'reader'): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.org`;
}

export interface PersonOptions {
  email?: string;
  name?: string;
  dateOfBirth?: string;
  postcode?: string;
}

export function personApplication(shares: number, options: PersonOptions = {}) {
  return {
    shares,
    applicant: {
      kind: 'person' as const,
      name: options.name ?? 'Ada Reader',
      email: options.email ?? uniqueEmail('person'),
      address: { line1: '1 Print Street', town: 'Leeds', postcode: options.postcode ?? 'LS1 1AA', country: 'United Kingdom' },
      dateOfBirth: options.dateOfBirth ?? '1980-05-17',
    },
    acceptRules: true,
  };
}

export function organisationApplication(shares: number, options: { email?: string; name?: string; registeredSociety?: boolean } = {}) {
  return {
    shares,
    applicant: {
      kind: 'organisation' as const,
      name: options.name ?? 'Leeds Trades Council',
      email: options.email ?? uniqueEmail('org'),
      address: { line1: 'Union House', line2: '12 Mill Lane', town: 'Leeds', postcode: 'LS2 2BB', country: 'United Kingdom' },
      registeredSociety: options.registeredSociety ?? false,
    },
    acceptRules: true,
  };
}

export async function apply(app: TestApp, body: unknown, headers?: Record<string, string>): Promise<TestResponse> {
  return app.request('POST', '/api/share-applications', { json: body, ...(headers ? { headers } : {}) });
}

/** Applies (expecting 201) and returns the application id and its Checkout Session id. */
export async function applyOk(app: TestApp, body: unknown, headers?: Record<string, string>): Promise<{ id: string; sessionId: string; checkoutUrl: string }> {
  const res = await apply(app, body, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, checkoutUrl: res.body.checkoutUrl, sessionId: app.stripe.sessionIdOf(res.body.checkoutUrl) };
}

/** Applies and pays by card; resolves when the webhook has been answered. */
export async function buyShares(app: TestApp, body: unknown): Promise<{ id: string; sessionId: string }> {
  const applied = await applyOk(app, body);
  const { deliveries } = await app.stripe.pay(applied.sessionId);
  expect(deliveries.every((d) => d.status === 200), JSON.stringify(deliveries)).toBe(true);
  return applied;
}

export async function applicationRow(app: TestApp, id: string) {
  return app.db.selectFrom('share_applications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function memberByEmail(app: TestApp, email: string) {
  return app.db.selectFrom('members').selectAll().where('email', '=', email.toLowerCase()).orderBy('number', 'desc').executeTakeFirst();
}

export async function transactionsOf(app: TestApp, memberId: string) {
  return app.db.selectFrom('share_transactions').selectAll().where('member_id', '=', memberId).orderBy('id').execute();
}

export async function emailsTo(app: TestApp, to: string) {
  return app.db.selectFrom('emails').selectAll().where('to_address', '=', to.toLowerCase()).orderBy('created_at').execute();
}

/** Waits (polling the database) until `check` passes: for work done by the job worker. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A Stripe event the fake Stripe built but did not deliver, for delivering in a chosen order. */
export function eventOfType<T extends { type: string }>(events: T[], type: string): T {
  const event = events.find((e) => e.type === type);
  if (!event) throw new Error(`no ${type} among ${events.map((e) => e.type).join(', ')}`);
  return event;
}
