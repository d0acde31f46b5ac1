/**
 * The treasurer's view of supporters: GET /api/admin/supporters (by status,
 * paginated, with counts by status and the monthly recurring total) and the
 * streamed CSV. `supporterTotals` is the figure other pages (the admin dashboard) show.
 */
import { rowsByPage } from '../lib/keyset-pages.js';
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { SupporterStatus } from '../db/schema.js';
import { countSupportersByStatus, listSupporters, recurringSums, supportersPage } from './supporters.repository.js';
import { monthlyAmount } from './supporters.views.js';

/** Subscriptions that bring money in every period: counted in the monthly recurring total (paused ones are not). */
const COLLECTING: SupporterStatus[] = ['trialing', 'active', 'past_due'];

/** How many supporters are giving, and what that makes a month (yearly amounts / 12), in the society's currency. */
export async function supporterTotals(deps: Pick<AppDeps, 'db' | 'config'>, db: Executor = deps.db): Promise<{ count: number; monthlyTotal: number; currency: string }> {
  const sums = await recurringSums(db, COLLECTING);
  const currency = deps.config.society.currency;
  let count = 0;
  let monthly = 0;
  let yearly = 0;
  for (const s of sums.filter((x) => x.currency === currency)) {
    count += s.count;
    if (s.interval === 'month') monthly += s.total;
    else yearly += s.total;
  }
  // Yearly amounts are summed first and divided once, so rounding happens once.
  return { count, monthlyTotal: monthly + Math.round(yearly / 12), currency };
}

export async function listSupportersForAdmin(deps: Pick<AppDeps, 'db' | 'config'>, q: { status?: SupporterStatus | undefined; page: number; limit: number }) {
  const [rows, counts, totals] = await Promise.all([
    listSupporters(deps.db, { status: q.status, limit: q.limit, offset: (q.page - 1) * q.limit }),
    countSupportersByStatus(deps.db),
    supporterTotals(deps),
  ]);
  const total = q.status ? (counts[q.status] ?? 0) : Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    supporters: rows.map((s) => ({
      id: s.id,
      email: s.email,
      name: s.name,
      status: s.status,
      amount: s.amount,
      currency: s.currency.trim(),
      interval: s.interval,
      monthlyAmount: monthlyAmount(s),
      currentPeriodEnd: s.current_period_end?.toISOString() ?? null,
      cancelAtPeriodEnd: s.cancel_at_period_end,
      paused: s.paused,
      startedAt: s.started_at?.toISOString() ?? null,
      createdAt: s.created_at.toISOString(),
    })),
    page: q.page,
    limit: q.limit,
    total,
    counts,
    monthlyRecurringTotal: totals.monthlyTotal,
    currency: totals.currency,
  };
}

export const SUPPORTERS_CSV_COLUMNS = [
  'id',
  'email',
  'name',
  'status',
  'amount_pence',
  'currency',
  'interval',
  'monthly_pence',
  'current_period_end',
  'cancel_at_period_end',
  'paused',
  'started_at',
  'ended_at',
  'created_at',
  'stripe_subscription_id',
] as const;

/** Audits the export, then yields every started subscription a page at a time (never all in memory). */
export async function openSupportersExport(deps: Pick<AppDeps, 'db' | 'clock'>, actor: Actor): Promise<AsyncIterable<Record<(typeof SUPPORTERS_CSV_COLUMNS)[number], string | number | boolean | null>>> {
  await recordAudit(deps.db, deps.clock, actor, { action: 'supporters.exported', subjectType: 'supporters', subjectId: 'all' });
  async function* rows() {
    const supporters = rowsByPage((after: { createdAt: Date; id: string } | null, limit) => supportersPage(deps.db, after, limit), (s) => ({ createdAt: s.created_at, id: s.id }));
    for await (const s of supporters) {
      yield {
        id: s.id,
        email: s.email,
        name: s.name,
        status: s.status,
        amount_pence: s.amount,
        currency: s.currency.trim(),
        interval: s.interval,
        monthly_pence: monthlyAmount(s),
        current_period_end: s.current_period_end?.toISOString() ?? null,
        cancel_at_period_end: s.cancel_at_period_end,
        paused: s.paused,
        started_at: s.started_at?.toISOString() ?? null,
        ended_at: s.ended_at?.toISOString() ?? null,
        created_at: s.created_at.toISOString(),
        stripe_subscription_id: s.stripe_subscription_id,
      };
    }
  }
  return rows();
}
