/**
 * The monthly campaign for any instant, in the society's time zone: it starts
 * at local midnight on the 1st and its deadline is 23:59:59 local on the last
 * day, so consecutive months leave no gap a payment could fall into (the last
 * second's fraction belongs to the month by its calendar date, see monthSlugAt).
 */
import { DateTime } from 'luxon';

export interface MonthlyPeriod {
  slug: string;
  title: string;
  startsAt: Date;
  deadline: Date;
}

/** 'YYYY-MM' slugs belong to monthly campaigns; no other campaign may take that shape (a database check agrees). */
export const RESERVED_SLUG = /^\d{4}-\d{2}$/;

/** The monthly campaign whose calendar month (in `timeZone`) contains `at`. */
export function monthlyPeriodAt(at: Date, timeZone: string): MonthlyPeriod {
  return monthlyPeriodOf(DateTime.fromJSDate(at, { zone: timeZone }).startOf('month'));
}

/** The monthly campaign `months` calendar months after the one containing `at`. */
export function monthlyPeriodAfter(at: Date, timeZone: string, months: number): MonthlyPeriod {
  return monthlyPeriodOf(DateTime.fromJSDate(at, { zone: timeZone }).startOf('month').plus({ months }));
}

/** The slug of the monthly campaign containing `at`. */
export function monthSlugAt(at: Date, timeZone: string): string {
  return DateTime.fromJSDate(at, { zone: timeZone }).toFormat('yyyy-LL');
}

function monthlyPeriodOf(start: DateTime): MonthlyPeriod {
  const deadline = start.endOf('month').set({ millisecond: 0 });
  return {
    slug: start.toFormat('yyyy-LL'),
    title: `${start.setLocale('en-GB').toFormat('LLLL yyyy')} fighting fund`,
    startsAt: start.toJSDate(),
    deadline: deadline.toJSDate(),
  };
}

/** The first instant of the next calendar day in `timeZone` after `at`. */
export function nextLocalMidnight(at: Date, timeZone: string): Date {
  return DateTime.fromJSDate(at, { zone: timeZone }).startOf('day').plus({ days: 1 }).toJSDate();
}
