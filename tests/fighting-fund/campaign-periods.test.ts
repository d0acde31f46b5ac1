import { describe, expect, it } from 'vitest';
import { monthlyPeriodAfter, monthlyPeriodAt, monthSlugAt, nextLocalMidnight } from '../../src/fighting-fund/campaign-periods.js';

const LONDON = 'Europe/London';

describe('monthly campaign periods in the society time zone', () => {
  it('runs November 2026 from local midnight on the 1st to 23:59:59 on the 30th', () => {
    expect(monthlyPeriodAt(new Date('2026-11-20T10:00:00Z'), LONDON)).toEqual({
      slug: '2026-11',
      title: 'November 2026 fighting fund',
      startsAt: new Date('2026-11-01T00:00:00Z'),
      deadline: new Date('2026-11-30T23:59:59Z'),
    });
  });

  it('starts October in summer time and ends it in winter time', () => {
    const october = monthlyPeriodAt(new Date('2026-10-15T12:00:00Z'), LONDON);
    expect(october.startsAt).toEqual(new Date('2026-09-30T23:00:00Z'));
    expect(october.deadline).toEqual(new Date('2026-10-31T23:59:59Z'));
  });

  it('starts March in winter time and ends it in summer time', () => {
    const march = monthlyPeriodAt(new Date('2027-03-15T12:00:00Z'), LONDON);
    expect(march.startsAt).toEqual(new Date('2027-03-01T00:00:00Z'));
    expect(march.deadline).toEqual(new Date('2027-03-31T22:59:59Z'));
  });

  it('places an instant by its London date: 23:30 UTC on 31 March 2027 is April already', () => {
    expect(monthlyPeriodAt(new Date('2027-03-31T23:30:00Z'), LONDON).slug).toBe('2027-04');
    expect(monthSlugAt(new Date('2027-03-31T22:30:00Z'), LONDON)).toBe('2027-03');
  });

  it('leaves no gap: each month starts one second after the previous deadline', () => {
    let at = new Date('2026-01-15T12:00:00Z');
    for (let i = 0; i < 24; i++) {
      const current = monthlyPeriodAt(at, LONDON);
      const next = monthlyPeriodAfter(at, LONDON, 1);
      expect(next.startsAt.getTime() - current.deadline.getTime()).toBe(1000);
      at = new Date(next.startsAt.getTime() + 86_400_000);
    }
  });

  it('rolls December over into January of the next year', () => {
    const next = monthlyPeriodAfter(new Date('2026-12-31T23:00:00Z'), LONDON, 1);
    expect(next.slug).toBe('2027-01');
    expect(next.title).toBe('January 2027 fighting fund');
  });

  it('handles February in a leap year', () => {
    expect(monthlyPeriodAt(new Date('2028-02-10T00:00:00Z'), LONDON).deadline).toEqual(new Date('2028-02-29T23:59:59Z'));
  });

  it('finds the next local midnight across a clock change', () => {
    expect(nextLocalMidnight(new Date('2026-10-25T12:00:00Z'), LONDON)).toEqual(new Date('2026-10-26T00:00:00Z'));
    expect(nextLocalMidnight(new Date('2027-03-28T12:00:00Z'), LONDON)).toEqual(new Date('2027-03-28T23:00:00Z'));
  });
});
