import { describe, expect, it } from 'vitest';
import {
  addDays,
  birthdayOfAge,
  checkCap,
  checkWithdrawal,
  hasReachedAge,
  isCalendarDate,
  localDate,
  sharesToReverse,
  withdrawalValue,
} from '../../src/shares/share-rules.js';

describe('minimum age on the birthday', () => {
  it('when the person turns 16 today, then they are old enough', () => {
    expect(hasReachedAge('2010-11-25', '2026-11-25', 16)).toBe(true);
  });

  it('when the person turns 16 tomorrow, then they are not', () => {
    expect(hasReachedAge('2010-11-26', '2026-11-25', 16)).toBe(false);
  });

  it('when born on 29 February, then they reach the age on 1 March of a year without one', () => {
    expect(birthdayOfAge('2008-02-29', 16)).toBe('2024-02-29');
    expect(birthdayOfAge('2009-02-28', 16)).toBe('2025-02-28');
    expect(birthdayOfAge('2012-02-29', 17)).toBe('2029-03-01');
    expect(hasReachedAge('2012-02-29', '2029-02-28', 17)).toBe(false);
    expect(hasReachedAge('2012-02-29', '2029-03-01', 17)).toBe(true);
  });

  it('when the minimum age is 0, then anyone born by today qualifies and a future birth date does not', () => {
    expect(hasReachedAge('2026-11-25', '2026-11-25', 0)).toBe(true);
    expect(hasReachedAge('2026-11-26', '2026-11-25', 0)).toBe(false);
  });
});

describe('the society calendar', () => {
  it('when it is 23:30 UTC in British summer time, then the society is already on the next day', () => {
    expect(localDate(new Date('2026-06-30T23:30:00Z'), 'Europe/London')).toBe('2026-07-01');
    expect(localDate(new Date('2026-12-31T23:30:00Z'), 'Europe/London')).toBe('2026-12-31');
  });

  it('adds whole days across a clock change and a leap day', () => {
    expect(addDays('2026-10-24', 90)).toBe('2027-01-22');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
  });

  it('recognises real calendar dates only', () => {
    expect(isCalendarDate('2001-02-28')).toBe(true);
    expect(isCalendarDate('2001-02-29')).toBe(false);
    expect(isCalendarDate('2001-2-28')).toBe(false);
    expect(isCalendarDate('yesterday')).toBe(false);
  });
});

describe('the holding cap', () => {
  const base = { maxHolding: 10_000_000, pricePerShare: 100 };

  it('when the holding plus the application reaches the cap exactly, then it is allowed', () => {
    expect(checkCap({ ...base, held: 9_999_000, pending: 0, requested: 1_000 })).toEqual({ allowed: true, roomShares: 10 });
  });

  it('when one penny more would exceed it, then it is refused and the room is given in shares', () => {
    expect(checkCap({ ...base, held: 9_999_000, pending: 0, requested: 1_100 })).toEqual({ allowed: false, roomShares: 10 });
  });

  it('counts applications awaiting payment', () => {
    expect(checkCap({ ...base, held: 9_990_000, pending: 9_900, requested: 200 })).toEqual({ allowed: false, roomShares: 1 });
  });

  it('when already over the cap (the cap was lowered), then the room is zero, not negative', () => {
    expect(checkCap({ ...base, held: 10_500_000, pending: 0, requested: 100 })).toEqual({ allowed: false, roomShares: 0 });
  });
});

describe('withdrawals', () => {
  it('allows withdrawing everything, or leaving at least the minimum', () => {
    expect(checkWithdrawal({ sharesHeld: 100, sharesPending: 0, requested: 100, minHolding: 10 })).toEqual({ allowed: true, remaining: 0 });
    expect(checkWithdrawal({ sharesHeld: 100, sharesPending: 0, requested: 90, minHolding: 10 })).toEqual({ allowed: true, remaining: 10 });
  });

  it('refuses leaving less than the minimum (but not nothing)', () => {
    expect(checkWithdrawal({ sharesHeld: 100, sharesPending: 0, requested: 95, minHolding: 10 })).toEqual({ allowed: false, reason: 'below_minimum_holding', remaining: 5 });
  });

  it('counts requests already made against what is held', () => {
    expect(checkWithdrawal({ sharesHeld: 100, sharesPending: 60, requested: 50, minHolding: 1 })).toEqual({ allowed: false, reason: 'exceeds_holding', available: 40 });
    expect(checkWithdrawal({ sharesHeld: 100, sharesPending: 60, requested: 40, minHolding: 10 })).toEqual({ allowed: true, remaining: 0 });
  });

  it('pays back the paid-up value pro rata, and everything when the whole holding goes', () => {
    expect(withdrawalValue(100, 10_000, 25)).toBe(2_500);
    expect(withdrawalValue(3, 1_000, 1)).toBe(333);
    expect(withdrawalValue(3, 1_000, 3)).toBe(1_000);
    expect(() => withdrawalValue(3, 1_000, 4)).toThrow(RangeError);
  });
});

describe('reversing an allotment', () => {
  it('when the whole payment is refunded, then every share goes', () => {
    expect(sharesToReverse({ sharesAllotted: 50, amountPaid: 5_000, totalReturned: 5_000, sharesAlreadyReversed: 0 })).toBe(50);
  });

  it('when part is refunded, then only the shares no longer fully paid go', () => {
    expect(sharesToReverse({ sharesAllotted: 10, amountPaid: 1_000, totalReturned: 150, sharesAlreadyReversed: 0 })).toBe(2);
    // A second refund counts what the first already took back.
    expect(sharesToReverse({ sharesAllotted: 10, amountPaid: 1_000, totalReturned: 350, sharesAlreadyReversed: 2 })).toBe(2);
  });

  it('when more comes back than was paid (refund and lost dispute), then no more than allotted goes', () => {
    expect(sharesToReverse({ sharesAllotted: 10, amountPaid: 1_000, totalReturned: 2_000, sharesAlreadyReversed: 10 })).toBe(0);
  });
});
