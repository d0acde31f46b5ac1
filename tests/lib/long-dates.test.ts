import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { longDate, longDateAt } from '../../src/lib/long-dates.js';

const zones = ['Europe/London', 'UTC', 'America/New_York', 'Pacific/Auckland', 'Asia/Kolkata'];

describe('long dates', () => {
  it('when an instant is written long in a time zone, then it names the day it falls on there, as "d MMMM yyyy" in British English', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }), fc.constantFrom(...zones), (at, zone) => {
        expect(longDateAt(at, zone)).toBe(DateTime.fromJSDate(at, { zone }).setLocale('en-GB').toFormat('d MMMM yyyy'));
      }),
    );
  });

  it('when the clock goes back in London, then a receipt just before midnight keeps its own day', () => {
    expect(longDateAt(new Date('2026-10-24T23:30:00Z'), 'Europe/London')).toBe('25 October 2026');
    expect(longDateAt(new Date('2026-10-25T23:30:00Z'), 'Europe/London')).toBe('25 October 2026');
    expect(longDateAt(new Date('2026-11-30T23:59:59Z'), 'Europe/London')).toBe('30 November 2026');
  });

  it('when a calendar date is written long, then it is that day whatever the zone, and a malformed date is refused', () => {
    expect(longDate('2026-11-25')).toBe('25 November 2026');
    expect(longDate('2028-02-29')).toBe('29 February 2028');
    expect(() => longDate('2026-02-30T00:00')).toThrow(RangeError);
    expect(() => longDate('25/11/2026')).toThrow(RangeError);
  });
});
