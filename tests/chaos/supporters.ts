/**
 * The month's supporters, played on the simulated Stripe: readers sign up
 * through the service (monthly, some yearly), most complete Checkout, then the
 * sandbox renews their subscriptions several times (invoice.paid and
 * customer.subscription.updated each time); some renewals fail and are then
 * recovered, some subscriptions are cancelled from Stripe's side, a few invoice
 * payments are refunded. The events are collected, not delivered: the run
 * delivers them with the month's others. expectedSupporters turns what Stripe
 * ends up holding into what the supporters table and the ledger must say.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { FakeStripe } from '../support/fake-stripe.js';
import type { SandboxEvent } from '../../src/payments/sandbox/sandbox.js';

export interface SupporterSignup {
  recordId: string;
  sessionId: string;
  subscriptionId: string | null;
}

type Post = (path: string, body: unknown) => Promise<{ status: number; body: any }>;

const chance = (p: number) => Math.random() < p;

export async function playSupporters(
  stripe: FakeStripe,
  post: Post,
  size: { supporters: number; renewals: number },
  each: <T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>) => Promise<void>,
): Promise<{ signups: SupporterSignup[]; events: SandboxEvent[]; counts: Record<string, number> }> {
  const tag = randomBytes(3).toString('hex');
  const counts: Record<string, number> = {};
  const count = (what: string, n = 1) => (counts[what] = (counts[what] ?? 0) + n);
  const signups: SupporterSignup[] = [];
  await each(
    Array.from({ length: size.supporters }, (_, i) => i),
    12,
    async (i) => {
      const yearly = chance(0.2);
      const amount = yearly ? 3600 + 100 * randomInt(100) : 300 + 50 * randomInt(40);
      const res = await post('/api/supporters', { amount, interval: yearly ? 'year' : 'month', email: `supporter-${tag}-${i}@example.org`, name: `Supporter ${i}` });
      if (res.status !== 201) throw new Error(`POST /api/supporters answered ${res.status}: ${JSON.stringify(res.body)}`);
      signups.push({ recordId: res.body.id as string, sessionId: stripe.sessionIdOf(res.body.checkoutUrl as string), subscriptionId: null });
      count(yearly ? 'yearly supporters started' : 'monthly supporters started');
    },
  );

  const state = stripe.sandbox.state;
  const billing = state.billing;
  const events: SandboxEvent[] = [];
  for (const s of signups) {
    if (chance(0.05)) {
      count('supporter checkouts abandoned');
      continue;
    }
    const { session, events: paid } = state.pay(s.sessionId, 'card');
    events.push(...paid);
    s.subscriptionId = session.subscription as string;
    count('supporters subscribed');
  }
  const live = () => signups.filter((s) => s.subscriptionId && billing.subscriptions.get(s.subscriptionId)?.status !== 'canceled');
  for (let round = 0; round < size.renewals; round++) {
    for (const s of live()) {
      const id = s.subscriptionId!;
      const subscription = billing.subscriptions.get(id)!;
      if (subscription.status === 'past_due') {
        // Last round's failure: the card is fixed, or Stripe gives up.
        if (chance(0.7)) {
          events.push(...billing.recover(id).events);
          count('failed payments recovered');
        } else {
          events.push(...billing.cancelNow(id).events);
          count('cancelled after failed payments');
        }
        continue;
      }
      if (chance(0.03)) {
        events.push(...billing.cancelNow(id).events);
        count('cancelled from Stripe');
        continue;
      }
      // A yearly supporter is not due every round of a month's renewals.
      if (subscription.items.data[0]!.price.recurring.interval === 'year' && !chance(0.3)) continue;
      if (chance(0.08)) {
        billing.failNext.add(id);
        count('renewals failed');
      } else count('renewals paid');
      events.push(...billing.renew(id).events);
    }
  }
  const paidInvoices = [...billing.invoices.values()].filter((i) => i.status === 'paid');
  for (const invoice of paidInvoices) {
    if (!chance(0.03)) continue;
    const charge = billing.chargeOfInvoice(invoice.id);
    const amount = chance(0.5) ? 1 + randomInt(invoice.amount_paid - 1) : undefined;
    events.push(...state.moneyBack.createRefund({ charge, amount }).events);
    count(amount ? 'supporter payments refunded in part' : 'supporter payments refunded in full');
  }
  return { signups, events, counts };
}

export interface ExpectedSupporters {
  /** Per supporter row: status, amount, interval as Stripe has them. */
  rows: Map<string, { status: string; amount: number; interval: string }>;
  /** Per paid invoice: what the ledger must hold net (paid, less refunds). */
  invoiceNet: Map<string, number>;
  net: number;
  paid: number;
  byStatus: Record<string, number>;
}

export function expectedSupporters(stripe: FakeStripe, signups: SupporterSignup[]): ExpectedSupporters {
  const state = stripe.sandbox.state;
  const billing = state.billing;
  const rows = new Map<string, { status: string; amount: number; interval: string }>();
  const invoiceNet = new Map<string, number>();
  const byStatus: Record<string, number> = {};
  const ours = new Set<string>();
  for (const s of signups) {
    if (!s.subscriptionId) continue;
    ours.add(s.subscriptionId);
    const sub = billing.subscriptions.get(s.subscriptionId)!;
    const price = sub.items.data[0]!.price;
    rows.set(s.recordId, { status: sub.status, amount: price.unit_amount ?? 0, interval: price.recurring.interval });
    byStatus[sub.status] = (byStatus[sub.status] ?? 0) + 1;
  }
  let net = 0;
  let paid = 0;
  for (const invoice of billing.invoices.values()) {
    if (invoice.status !== 'paid' || !ours.has(invoice.parent.subscription_details.subscription)) continue;
    const charge = state.getCharge(billing.chargeOfInvoice(invoice.id));
    const n = invoice.amount_paid - charge.amount_refunded;
    invoiceNet.set(invoice.id, n);
    net += n;
    paid++;
  }
  return { rows, invoiceNet, net, paid, byStatus };
}
