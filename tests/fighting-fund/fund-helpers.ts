/** Test helpers of the fighting-fund tests: book entries through the fund's own service, count rows. */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { bookStripeMoneyBack, bookStripeMoneyIn, type StripeMoneyBack, type StripeMoneyIn } from '../../src/fighting-fund/stripe-bookings.js';
import { invalidateFundCache } from '../../src/fighting-fund/fund-cache.js';
import type { TestApp } from '../support/test-app.js';

/** As the job applying Stripe events does: the fund's cache is dropped once the booking has committed. */
async function afterCommit<T>(committed: Promise<T>): Promise<T> {
  const result = await committed;
  invalidateFundCache();
  return result;
}

export const uid = () => randomUUID().replaceAll('-', '').slice(0, 16);

/** Books an online donation as a confirmed Stripe payment would. */
export async function giveOnline(app: TestApp, input: Partial<StripeMoneyIn> & { amount: number }) {
  const pi = `pi_${uid()}`;
  return afterCommit(app.db.transaction().execute((trx) =>
    bookStripeMoneyIn(app.deps, trx, {
      stripeKey: `payment:${pi}`,
      sourceRef: pi,
      kind: 'online_donation',
      currency: 'GBP',
      givenAt: app.clock.now(),
      acknowledged: false,
      ...input,
    }),
  ));
}

export async function takeBack(app: TestApp, input: Partial<StripeMoneyBack> & Pick<StripeMoneyBack, 'originalStripeKey' | 'amount'>) {
  const id = uid();
  const kind = input.kind ?? 'refund';
  return afterCommit(app.db.transaction().execute((trx) =>
    bookStripeMoneyBack(app.deps, trx, {
      stripeKey: `${kind}:${kind === 'refund' ? 're' : 'dp'}_${id}`,
      sourceRef: `${kind === 'refund' ? 're' : 'dp'}_${id}`,
      kind,
      currency: 'GBP',
      givenAt: app.clock.now(),
      ...input,
    }),
  ));
}

/** Row counts of the tables the fund writes, to show that bad input changed nothing. */
export async function fundTableCounts(app: TestApp) {
  const { rows } = await sql<{ campaigns: number; ledger: number; audit: number }>`
    select (select count(*) from campaigns)::int8 as campaigns,
           (select count(*) from ledger_entries)::int8 as ledger,
           (select count(*) from audit_log)::int8 as audit`.execute(app.db);
  return rows[0]!;
}
