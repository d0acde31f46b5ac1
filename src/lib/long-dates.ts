/**
 * How the society writes a date in prose, "30 November 2026": in every email, on
 * account pages and on share certificates. One rule, in one place. The formatter
 * of each time zone is made once: receipts are written by the thousand inside the
 * job that applies a burst of payments.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) formatters.set(timeZone, (f = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone })));
  return f;
}

/** The calendar day on which `at` falls in `timeZone` (the society's), written long. */
export function longDateAt(at: Date, timeZone: string): string {
  return formatter(timeZone).format(at);
}

/** A calendar date, "2026-11-25", written long: "25 November 2026". */
export function longDate(isoDate: string): string {
  const at = new Date(`${isoDate}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate) || Number.isNaN(at.getTime())) throw new RangeError(`${isoDate} is not a calendar date`);
  return longDateAt(at, 'UTC');
}
