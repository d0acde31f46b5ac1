/**
 * A month of a newspaper's payments, played on the simulated Stripe: readers
 * start donations and share purchases through the service (HTTP, spread over the
 * instances), most pay, some abandon or let the session expire, and later some
 * payments are refunded (in full or in part) or disputed (won, lost, or still
 * open). Every Stripe event this makes is collected, not delivered: the run
 * delivers them itself, duplicated and shuffled. What Stripe ends up holding is
 * the truth the service's books are checked against (expectedBooks).
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { FakeStripe } from '../support/fake-stripe.js';
import type { SandboxEvent } from '../../src/payments/sandbox/sandbox.js';

export interface MonthSize {
  donations: number;
  sharePurchases: number;
}

export interface Purchase {
  kind: 'donation' | 'shares';
  recordId: string;
  sessionId: string;
  email: string;
  amount: number;
  shares: number;
}

export interface Month {
  purchases: Purchase[];
  events: SandboxEvent[];
  /** What was done on the Stripe side, for the report. */
  counts: Record<string, number>;
}

type Post = (path: string, body: unknown) => Promise<{ status: number; body: any }>;

/** Runs `fn` over `items`, `limit` at a time. */
export async function eachLimit<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

const pick = <T>(items: T[]): T => items[randomInt(items.length)]!;
const chance = (p: number) => Math.random() < p;

/** Donation amounts as readers give: mostly £3-£50, some larger, a few very large. */
function donationAmount(): number {
  const r = Math.random();
  if (r < 0.6) return pick([300, 500, 500, 1000, 1000, 1500, 2000, 2500, 5000]);
  if (r < 0.95) return 100 + randomInt(20_000);
  return 20_000 + randomInt(500_000);
}

export async function playMonth(stripe: FakeStripe, post: Post, size: MonthSize): Promise<Month> {
  const tag = randomBytes(3).toString('hex');
  const regulars = Array.from({ length: Math.max(10, Math.floor(size.donations / 8)) }, (_, i) => `regular-${tag}-${i}@example.org`);
  const purchases: Purchase[] = [];
  const counts: Record<string, number> = {};
  const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);

  const plans: (() => Promise<void>)[] = [];
  for (let i = 0; i < size.donations; i++) {
    plans.push(async () => {
      // One in three gifts comes from a reader who gives more than once in the month.
      const email = chance(0.33) ? pick(regulars) : `donor-${tag}-${i}@example.org`;
      const amount = donationAmount();
      const named = chance(0.3);
      const res = await post('/api/donations', { amount, email, ...(named ? { name: `Reader ${i}`, town: 'Leeds', acknowledge: true } : {}) });
      if (res.status !== 201) throw new Error(`POST /api/donations answered ${res.status}: ${JSON.stringify(res.body)}`);
      purchases.push({ kind: 'donation', recordId: res.body.id, sessionId: stripe.sessionIdOf(res.body.checkoutUrl), email, amount, shares: 0 });
      count('donations started');
    });
  }
  const members: string[] = [];
  for (let i = 0; i < size.sharePurchases; i++) {
    plans.push(async () => {
      // Some members buy again during the month.
      const email = members.length > 0 && chance(0.15) ? pick(members) : `member-${tag}-${i}@example.org`;
      const shares = chance(0.7) ? pick([1, 5, 10, 20, 25, 50, 100]) : 1 + randomInt(500);
      const res = await post('/api/share-applications', {
        shares,
        applicant: {
          kind: 'person',
          name: `Member ${i}`,
          email,
          address: { line1: `${i} Print Street`, town: 'Leeds', postcode: 'LS1 1AA', country: 'United Kingdom' },
          dateOfBirth: '1970-01-01',
        },
        acceptRules: true,
      });
      if (res.status !== 201) throw new Error(`POST /api/share-applications answered ${res.status}: ${JSON.stringify(res.body)}`);
      members.push(email);
      purchases.push({ kind: 'shares', recordId: res.body.id, sessionId: stripe.sessionIdOf(res.body.checkoutUrl), email, amount: 0, shares });
      count('share applications started');
    });
  }
  // Readers arrive in no particular order.
  plans.sort(() => Math.random() - 0.5);
  await eachLimit(plans, 12, (plan) => plan());

  // On Stripe's side: payments, then later refunds and disputes.
  const state = stripe.sandbox.state;
  const events: SandboxEvent[] = [];
  const paid: Purchase[] = [];
  for (const p of purchases) {
    if (chance(0.06)) {
      if (chance(0.5)) {
        events.push(...state.expireSession(p.sessionId).events);
        count('sessions expired');
      } else count('sessions abandoned');
      continue;
    }
    events.push(...state.pay(p.sessionId, 'card').events);
    p.amount = state.getSession(p.sessionId).amount_total ?? 0;
    paid.push(p);
    count(p.kind === 'donation' ? 'donations paid' : 'share purchases paid');
  }
  for (const p of paid) {
    const charge = state.chargeOf(p.sessionId);
    if (chance(0.06)) {
      // Shares are refunded in full (a refund undoes the allotment); gifts sometimes in part.
      const amount = p.kind === 'donation' && chance(0.5) ? 1 + randomInt(charge.amount - 1) : undefined;
      events.push(...state.moneyBack.createRefund({ charge: charge.id, amount }).events);
      count(amount ? 'partial refunds' : 'full refunds');
      if (amount && chance(0.3)) {
        events.push(...state.moneyBack.createRefund({ charge: charge.id }).events);
        count('second refunds');
      }
    } else if (chance(0.03)) {
      const { dispute, events: opened } = state.moneyBack.openDispute(p.sessionId);
      events.push(...opened);
      const outcome = pick(['won', 'lost', 'open'] as const);
      if (outcome !== 'open') events.push(...state.moneyBack.closeDispute(dispute.id, outcome).events);
      count(`disputes ${outcome}`);
    }
  }
  return { purchases, events, counts };
}

export interface ExpectedBooks {
  /** Net money in the ledger for each donation: paid, less refunds, less a dispute not won. */
  donationNet: Map<string, number>;
  /** Shares each share application should have left in the register. */
  applicationShares: Map<string, number>;
  /** Shares held per member email. */
  sharesByEmail: Map<string, number>;
  fundNet: number;
  sharesTotal: number;
  sharesPaidFor: number;
}

/** What Stripe holds at the end, turned into what our books must say. */
export function expectedBooks(stripe: FakeStripe, month: Month): ExpectedBooks {
  const state = stripe.sandbox.state;
  const disputesByCharge = new Map([...state.moneyBack.disputes.values()].map((d) => [typeof d.charge === 'string' ? d.charge : d.charge.id, d]));
  const donationNet = new Map<string, number>();
  const applicationShares = new Map<string, number>();
  const sharesByEmail = new Map<string, number>();
  let fundNet = 0;
  let sharesTotal = 0;
  let sharesPaidFor = 0;
  for (const p of month.purchases) {
    const session = state.getSession(p.sessionId);
    const paid = session.payment_status === 'paid';
    const charge = paid ? state.chargeOf(p.sessionId) : undefined;
    const dispute = charge ? disputesByCharge.get(charge.id) : undefined;
    if (p.kind === 'donation') {
      const net = charge ? charge.amount - charge.amount_refunded - (dispute && dispute.status !== 'won' ? dispute.amount : 0) : 0;
      donationNet.set(p.recordId, net);
      fundNet += net;
    } else {
      // A refund or a lost dispute undoes the allotment; an open or won dispute leaves it.
      const kept = charge && charge.amount_refunded === 0 && dispute?.status !== 'lost' ? p.shares : 0;
      if (charge) sharesPaidFor += p.shares;
      applicationShares.set(p.recordId, kept);
      sharesByEmail.set(p.email, (sharesByEmail.get(p.email) ?? 0) + kept);
      sharesTotal += kept;
    }
  }
  return { donationNet, applicationShares, sharesByEmail, fundNet, sharesTotal, sharesPaidFor };
}
