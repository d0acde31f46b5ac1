/**
 * The fund's figures as SPEC section 1 defines them. Pure: the caller brings
 * the clock's "now", so tests can stand on a deadline day or a clock change.
 */
import { DateTime } from 'luxon';
import { percentOf } from '../lib/money.js';

/**
 * Whole calendar days left until `deadline` in `timeZone`, counting today while
 * the deadline has not passed: the deadline day gives 1, any instant after it 0.
 */
export function daysRemaining(deadline: Date, now: Date, timeZone: string): number {
  if (now.getTime() > deadline.getTime()) return 0;
  const deadlineDay = DateTime.fromJSDate(deadline, { zone: timeZone }).startOf('day');
  const today = DateTime.fromJSDate(now, { zone: timeZone }).startOf('day');
  // Calendar arithmetic: a 23- or 25-hour day across a clock change is still one day.
  return Math.round(deadlineDay.diff(today, 'days').days) + 1;
}

export interface FundFigures {
  target: number;
  raised: number;
  remaining: number;
  daysRemaining: number;
  /** raised / target with one decimal; above 100 when the target is beaten, never below 0. */
  percent: number;
}

/** raised = the sum of entries; remaining = max(target - raised, 0). */
export function fundFigures(input: { target: number; raised: number; deadline: Date; now: Date; timeZone: string }): FundFigures {
  const { target, raised } = input;
  return {
    target,
    raised,
    remaining: Math.max(target - raised, 0),
    daysRemaining: daysRemaining(input.deadline, input.now, input.timeZone),
    percent: Math.max(percentOf(raised, target), 0),
  };
}
