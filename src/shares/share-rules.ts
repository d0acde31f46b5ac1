/**
 * The society's share rules as pure arithmetic: age on a birthday, room under
 * the holding cap, what a withdrawal pays back, how many shares a refund takes
 * back. No database, no clock: the services pass in what they read.
 */
import { DateTime } from 'luxon';

/** The calendar day (YYYY-MM-DD) an instant falls on in the society's time zone. */
export function localDate(instant: Date, timeZone: string): string {
  const date = DateTime.fromJSDate(instant, { zone: timeZone }).toISODate();
  if (!date) throw new RangeError(`cannot place ${instant.toISOString()} in ${timeZone}`);
  return date;
}

/** Adds whole days to a calendar day (YYYY-MM-DD), without time zones. */
export function addDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate()!;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The day someone born on `dateOfBirth` reaches `age`. Someone born on 29 February
 * reaches it on 1 March in a year without one: never a day early.
 */
export function birthdayOfAge(dateOfBirth: string, age: number): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateOfBirth);
  if (!match) throw new RangeError(`${dateOfBirth} is not a YYYY-MM-DD date`);
  const year = Number(match[1]) + age;
  let month = Number(match[2]);
  let day = Number(match[3]);
  if (month === 2 && day === 29 && !isLeapYear(year)) {
    month = 3;
    day = 1;
  }
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** True when the person has reached `minAge` on `today` (YYYY-MM-DD): a person turning 16 today is 16. */
export function hasReachedAge(dateOfBirth: string, today: string, minAge: number): boolean {
  // ISO dates with four-digit years compare correctly as strings.
  return birthdayOfAge(dateOfBirth, minAge) <= today;
}

/** A real calendar date written YYYY-MM-DD (rejects 2001-02-30). */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  return DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

export interface CapPosition {
  /** Paid-up value of the shares held now (pence). */
  held: number;
  /** Applications still awaiting payment (pence). */
  pending: number;
  /** This application (pence). */
  requested: number;
  maxHolding: number;
  pricePerShare: number;
}

export interface CapVerdict {
  allowed: boolean;
  /** The most shares that could still be applied for. */
  roomShares: number;
}

/**
 * Registered societies are exempt from the maximum holding. Once someone is a member
 * the register decides (what a later form says does not change it); for a newcomer,
 * an organisation that says it is a registered society.
 */
export function isExemptFromCap(
  member: { registered_society: boolean } | undefined,
  applicant: { kind: 'person' | 'organisation'; registeredSociety?: boolean | undefined },
): boolean {
  return member ? member.registered_society : applicant.kind === 'organisation' && applicant.registeredSociety === true;
}

/**
 * The holding cap, the one rule for applying and for allotting: whether an application
 * fits under the maximum holding, counting what awaits payment.
 */
export function checkCap(position: CapPosition): CapVerdict {
  const room = Math.max(0, position.maxHolding - position.held - position.pending);
  return {
    allowed: position.requested <= room,
    roomShares: Math.floor(room / position.pricePerShare),
  };
}

export interface WithdrawalPosition {
  sharesHeld: number;
  /** Shares already asked for in requests not yet paid, rejected or withdrawn. */
  sharesPending: number;
  requested: number;
  minHolding: number;
}

export type WithdrawalVerdict =
  | { allowed: true; remaining: number }
  | { allowed: false; reason: 'exceeds_holding'; available: number }
  | { allowed: false; reason: 'below_minimum_holding'; remaining: number };

/** A member may withdraw what is not already asked for, leaving either nothing or at least the minimum. */
export function checkWithdrawal(position: WithdrawalPosition): WithdrawalVerdict {
  const available = Math.max(0, position.sharesHeld - position.sharesPending);
  if (position.requested > available) return { allowed: false, reason: 'exceeds_holding', available };
  const remaining = position.sharesHeld - position.sharesPending - position.requested;
  if (remaining !== 0 && remaining < position.minHolding) return { allowed: false, reason: 'below_minimum_holding', remaining };
  return { allowed: true, remaining };
}

/**
 * What withdrawing `shares` pays back: the paid-up value of those shares, pro rata
 * (everything that was paid when the whole holding goes, so nothing is left over).
 */
export function withdrawalValue(sharesHeld: number, amountPaid: number, shares: number): number {
  if (shares <= 0 || shares > sharesHeld) throw new RangeError(`cannot withdraw ${shares} of ${sharesHeld} shares`);
  if (shares === sharesHeld) return amountPaid;
  return Number((BigInt(amountPaid) * BigInt(shares)) / BigInt(sharesHeld));
}

export interface ReversalPosition {
  /** The application's shares and what was paid for them. */
  sharesAllotted: number;
  amountPaid: number;
  /** Every refund and lost dispute on this payment so far, including the new one (pence). */
  totalReturned: number;
  /** Shares already taken back by earlier reversals of this payment. */
  sharesAlreadyReversed: number;
}

/**
 * How many more shares a refund takes back: only fully paid shares stand, so
 * after giving back `totalReturned` the holding from this payment is the number
 * of shares the remaining money still pays for in full.
 */
export function sharesToReverse(position: ReversalPosition): number {
  const stillPaid = Math.max(0, position.amountPaid - position.totalReturned);
  const standing = Number((BigInt(stillPaid) * BigInt(position.sharesAllotted)) / BigInt(position.amountPaid));
  return Math.max(0, position.sharesAllotted - standing - position.sharesAlreadyReversed);
}
