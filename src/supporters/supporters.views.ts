/** Supporter rows become API views here, and only here. */
import type { Supporter } from '../db/schema.js';

export interface SupporterView {
  id: string;
  status: Supporter['status'];
  amount: number;
  currency: string;
  interval: Supporter['interval'];
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  paused: boolean;
  pending: Supporter['pending_change'];
}

export function supporterView(s: Supporter): SupporterView {
  return {
    id: s.id,
    status: s.status,
    amount: s.amount,
    currency: s.currency.trim(),
    interval: s.interval,
    currentPeriodEnd: s.current_period_end?.toISOString() ?? null,
    cancelAtPeriodEnd: s.cancel_at_period_end,
    paused: s.paused,
    pending: s.pending_change,
  };
}

/** What a subscription brings in a month: yearly amounts divided by 12 (whole pence, rounded). */
export function monthlyAmount(s: Pick<Supporter, 'amount' | 'interval'>): number {
  return s.interval === 'year' ? Math.round(s.amount / 12) : s.amount;
}
