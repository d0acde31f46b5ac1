import { describe, expect, it } from 'vitest';
import { formatMoney, parseMajorUnits, percentOf, toSafeInteger } from '../../src/lib/money.js';

describe('money', () => {
  it('formats pence as pounds, and whole pounds for headline figures', () => {
    expect(formatMoney(1250, 'GBP')).toBe('£12.50');
    expect(formatMoney(102_820_000, 'GBP')).toBe('£1,028,200.00');
    expect(formatMoney(1_028_250, 'GBP', { wholeUnits: true })).toBe('£10,282');
  });

  it('when £12.50 of £18,000 is raised, then the banner says £12 raised and £17,988 needed, adding up to the target', () => {
    const target = 1_800_000;
    const raised = 1250;
    expect(formatMoney(raised, 'GBP', { wholeUnits: true })).toBe('£12');
    expect(formatMoney(target - raised, 'GBP', { wholeUnits: true, round: 'up' })).toBe('£17,988');
  });

  it('reads amounts typed in pounds exactly, without floating point', () => {
    expect(parseMajorUnits('12.50')).toBe(1250);
    expect(parseMajorUnits('£1,000')).toBe(100_000);
    expect(parseMajorUnits(' 0.1 ')).toBe(10);
    expect(parseMajorUnits('1.005')).toBeNull();
    expect(parseMajorUnits('-5')).toBeNull();
    expect(parseMajorUnits('1e3')).toBeNull();
    expect(parseMajorUnits('12,34')).toBe(1234); // a decimal comma
    expect(parseMajorUnits('12,3456')).toBeNull();
    expect(parseMajorUnits('99999999999999')).toBeNull();
  });

  it('gives a percentage with one decimal, and 0 for a zero target', () => {
    expect(percentOf(1_028_200, 1_800_000)).toBe(57.1);
    expect(percentOf(2_000_000, 1_800_000)).toBe(111.1);
    expect(percentOf(5, 0)).toBe(0);
  });

  it('refuses an int8 that JavaScript cannot hold exactly', () => {
    expect(toSafeInteger('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toSafeInteger('9007199254740993')).toThrow(RangeError);
  });
});
