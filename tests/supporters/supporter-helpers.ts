/** Shared steps of the supporters tests: sign up through the API, pay on the fake Stripe, read rows back. */
import { expect } from 'vitest';
import type { SandboxEvent } from '../../src/payments/sandbox/sandbox.js';
import { uniqueEmail } from '../payments/payment-helpers.js';
import type { TestApp } from '../support/test-app.js';

export { uniqueEmail };

export interface StartedSupporter {
  supporterId: string;
  sessionId: string;
  email: string;
}

export async function startSupporter(app: TestApp, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<StartedSupporter> {
  const email = (body.email as string | undefined) ?? uniqueEmail('supporter');
  const res = await app.request('POST', '/api/supporters', { json: { amount: 500, interval: 'month', email, name: 'Sam Supporter', ...body }, headers });
  expect(res.status, res.text).toBe(201);
  return { supporterId: res.body.id, sessionId: app.stripe.sessionIdOf(res.body.checkoutUrl), email };
}

/** Pays the subscription's checkout on the fake Stripe WITHOUT delivering its events: the test delivers them. */
export function payWithoutDelivery(app: TestApp, sessionId: string): { events: SandboxEvent[]; subscriptionId: string } {
  const { session, events } = app.stripe.sandbox.state.pay(sessionId, 'card');
  return { events, subscriptionId: session.subscription as string };
}

/** Starts and pays a subscription, delivering Stripe's events as Stripe would. */
export async function becomeSupporter(app: TestApp, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const started = await startSupporter(app, body, headers);
  const { events } = await app.stripe.pay(started.sessionId);
  const subscriptionId = app.stripe.sandbox.state.getSession(started.sessionId).subscription as string;
  return { ...started, subscriptionId, events };
}

export function supporterRow(app: TestApp, id: string) {
  return app.db.selectFrom('supporters').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export function invoiceEntries(app: TestApp) {
  return app.db.selectFrom('ledger_entries').selectAll().where('kind', 'in', ['supporter_payment', 'refund', 'dispute', 'dispute_won']).orderBy('id').execute();
}

export function emailsTo(app: TestApp, to: string) {
  return app.db.selectFrom('emails').selectAll().where('to_address', '=', to).orderBy('created_at').execute();
}

export async function deliver(app: TestApp, events: object[]) {
  for (const e of events) {
    const res = await app.deliverWebhook(e);
    expect(res.status, res.text).toBeLessThan(300);
  }
}

/** The one-click link in the newest email of `template` to `to`. */
export async function manageTokenFrom(app: TestApp, to: string, template?: string): Promise<string> {
  const emails = (await emailsTo(app, to)).filter((e) => !template || e.template === template);
  const last = emails.at(-1);
  if (!last) throw new Error(`no email to ${to}`);
  const token = /supporter\/manage\?token=([\w.-]+)/.exec(last.text)?.[1];
  if (!token) throw new Error(`no manage link in ${last.template}`);
  return token;
}
