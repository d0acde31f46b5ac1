/**
 * Instants a client may send (SPEC 3: never a 500 for anything a client sent).
 * An ISO 8601 instant with a time zone, within the years the society could mean:
 * from 2000 (before the first campaign any treasurer will book) to 2099. Year 0,
 * 1901 or 275760 are typing mistakes, not dates, and PostgreSQL or the campaign
 * calendar would fail or invent a campaign for them.
 */
import { z } from 'zod';

export const EARLIEST_INSTANT = '2000-01-01T00:00:00Z';
export const LATEST_INSTANT = '2099-12-31T23:59:59Z';

const earliest = Date.parse(EARLIEST_INSTANT);
const latest = Date.parse(LATEST_INSTANT);

/** Whether an instant lies within the years a client could mean (see above). */
export function isPlausibleInstant(at: Date): boolean {
  const t = at.getTime();
  return Number.isFinite(t) && t >= earliest && t <= latest;
}

/** An ISO 8601 instant with a time zone, 2000 to 2099, as a string. */
export const instantText = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 instant with a time zone, e.g. 2026-11-30T23:59:59Z' })
  .refine((s) => isPlausibleInstant(new Date(s)), `must lie between ${EARLIEST_INSTANT.slice(0, 10)} and ${LATEST_INSTANT.slice(0, 10)}`);

/** The same, parsed to a Date. */
export const instantInput = instantText.transform((s) => new Date(s));
