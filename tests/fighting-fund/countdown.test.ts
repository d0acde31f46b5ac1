import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { daysRemaining, fundFigures } from '../../src/fighting-fund/countdown.js';

const LONDON = 'Europe/London';
/** An instant given as London wall-clock time. */
const london = (iso: string) => DateTime.fromISO(iso, { zone: LONDON }).toJSDate();

describe('daysRemaining (SPEC 1: whole calendar days, counting today until the deadline passes)', () => {
  const endOfNovember = london('2026-11-30T23:59:59');

  it('gives 11 on 20 November for a deadline at the end of 30 November', () => {
    expect(daysRemaining(endOfNovember, london('2026-11-20T09:00:00'), LONDON)).toBe(11);
    expect(daysRemaining(endOfNovember, london('2026-11-20T00:00:00'), LONDON)).toBe(11);
    expect(daysRemaining(endOfNovember, london('2026-11-20T23:59:59'), LONDON)).toBe(11);
  });

  it('gives 1 all through the deadline day, up to and including the deadline itself', () => {
    expect(daysRemaining(endOfNovember, london('2026-11-30T00:00:00'), LONDON)).toBe(1);
    expect(daysRemaining(endOfNovember, london('2026-11-30T18:30:00'), LONDON)).toBe(1);
    expect(daysRemaining(endOfNovember, endOfNovember, LONDON)).toBe(1);
  });

  it('gives 0 once the deadline has passed: the second after it and the day after', () => {
    expect(daysRemaining(endOfNovember, london('2026-12-01T00:00:00'), LONDON)).toBe(0);
    expect(daysRemaining(endOfNovember, london('2026-12-01T12:00:00'), LONDON)).toBe(0);
    expect(daysRemaining(endOfNovember, london('2027-02-01T12:00:00'), LONDON)).toBe(0);
  });

  it('gives 0 later on the deadline day when the deadline was earlier that day', () => {
    const noon = london('2026-11-30T12:00:00');
    expect(daysRemaining(noon, london('2026-11-30T11:59:59'), LONDON)).toBe(1);
    expect(daysRemaining(noon, london('2026-11-30T12:00:01'), LONDON)).toBe(0);
  });

  describe('across the October clock change (last Sunday of October: 25 October 2026, BST -> GMT)', () => {
    const endOfOctober = london('2026-10-31T23:59:59');

    it('puts the deadline at 23:59:59 GMT and counts calendar days across the 25-hour day', () => {
      expect(endOfOctober.toISOString()).toBe('2026-10-31T23:59:59.000Z');
      expect(daysRemaining(endOfOctober, london('2026-10-24T12:00:00'), LONDON)).toBe(8);
      expect(daysRemaining(endOfOctober, london('2026-10-25T00:30:00'), LONDON)).toBe(7);
      expect(daysRemaining(endOfOctober, london('2026-10-26T00:00:00'), LONDON)).toBe(6);
    });

    it('counts London days, not UTC days: 00:30 BST on the 25th is still the 24th in UTC', () => {
      const justAfterMidnight = london('2026-10-25T00:30:00');
      expect(justAfterMidnight.toISOString()).toBe('2026-10-24T23:30:00.000Z');
      const deadlineThatDay = london('2026-10-25T23:59:59');
      expect(daysRemaining(deadlineThatDay, justAfterMidnight, LONDON)).toBe(1);
    });

    it('gives 1 and then 0 around a deadline on the change day itself', () => {
      const deadline = london('2026-10-25T23:59:59');
      expect(deadline.toISOString()).toBe('2026-10-25T23:59:59.000Z');
      expect(daysRemaining(deadline, london('2026-10-25T23:59:58'), LONDON)).toBe(1);
      expect(daysRemaining(deadline, london('2026-10-26T00:00:00'), LONDON)).toBe(0);
    });
  });

  describe('across the March clock change (last Sunday of March: 28 March 2027, GMT -> BST)', () => {
    const endOfMarch = london('2027-03-31T23:59:59');

    it('puts the deadline at 23:59:59 BST (22:59:59 UTC) and counts across the 23-hour day', () => {
      expect(endOfMarch.toISOString()).toBe('2027-03-31T22:59:59.000Z');
      expect(daysRemaining(endOfMarch, london('2027-03-27T12:00:00'), LONDON)).toBe(5);
      expect(daysRemaining(endOfMarch, london('2027-03-28T03:00:00'), LONDON)).toBe(4);
      expect(daysRemaining(endOfMarch, london('2027-03-31T23:30:00'), LONDON)).toBe(1);
    });

    it('gives 0 at 23:00 UTC on 31 March, already 1 April in London', () => {
      expect(daysRemaining(endOfMarch, new Date('2027-03-31T23:00:00Z'), LONDON)).toBe(0);
    });
  });

  it('decides calendar days in the society time zone it is given', () => {
    const deadline = new Date('2026-11-30T10:00:00Z');
    const now = new Date('2026-11-29T12:00:00Z');
    // In London the deadline is tomorrow; in Auckland (UTC+13) both fall on 30 November.
    expect(daysRemaining(deadline, now, LONDON)).toBe(2);
    expect(daysRemaining(deadline, now, 'Pacific/Auckland')).toBe(1);
  });
});

describe('fundFigures', () => {
  const deadline = london('2026-11-30T23:59:59');
  const now = london('2026-11-20T10:00:00');

  it('gives the SPEC example: £10,282 of £18,000 raised, £7,718 to go, 57.1%, 11 days', () => {
    expect(fundFigures({ target: 1_800_000, raised: 1_028_200, deadline, now, timeZone: LONDON })).toEqual({
      target: 1_800_000,
      raised: 1_028_200,
      remaining: 771_800,
      daysRemaining: 11,
      percent: 57.1,
    });
  });

  it('gives remaining 0 and a percent above 100 when more than the target is raised', () => {
    const f = fundFigures({ target: 1_800_000, raised: 2_000_050, deadline, now, timeZone: LONDON });
    expect(f.remaining).toBe(0);
    expect(f.raised).toBe(2_000_050);
    expect(f.percent).toBe(111.1);
  });

  it('gives remaining 0 and 100% exactly at the target', () => {
    const f = fundFigures({ target: 1000, raised: 1000, deadline, now, timeZone: LONDON });
    expect(f).toMatchObject({ remaining: 0, percent: 100 });
  });

  it('never shows a negative percent when refunds outweigh gifts, while raised stays the true sum', () => {
    const f = fundFigures({ target: 1000, raised: -500, deadline, now, timeZone: LONDON });
    expect(f).toMatchObject({ raised: -500, remaining: 1500, percent: 0 });
  });

  it('rounds the percent to one decimal', () => {
    expect(fundFigures({ target: 3, raised: 1, deadline, now, timeZone: LONDON }).percent).toBe(33.3);
    expect(fundFigures({ target: 3, raised: 2, deadline, now, timeZone: LONDON }).percent).toBe(66.7);
  });
});
