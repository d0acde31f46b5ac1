/**
 * Money is an integer number of minor units (pence) with an ISO currency.
 * This is the only module that turns an amount into text.
 */

/** Throws unless `n` is a safe integer: guards every int8 that leaves the database. */
export function toSafeInteger(n: bigint | number | string): number {
  const value = typeof n === 'number' ? n : Number(n);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${String(n)} is not a safe integer amount`);
  return value;
}

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string, wholeUnits: boolean): Intl.NumberFormat {
  const key = `${currency}:${wholeUnits}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-GB', {
      style: 'currency',
      currency,
      minimumFractionDigits: wholeUnits ? 0 : 2,
      maximumFractionDigits: wholeUnits ? 0 : 2,
    });
    formatters.set(key, f);
  }
  return f;
}

/**
 * "£1,234.50"; with `wholeUnits` "£1,234" for headline figures such as the fund banner.
 * Whole units round down unless `round: 'up'`: money raised rounds down and money
 * still needed rounds up, so the two headline figures never add up to less than the target.
 */
export function formatMoney(minor: number, currency: string, options: { wholeUnits?: boolean; round?: 'down' | 'up' } = {}): string {
  const wholeUnits = options.wholeUnits ?? false;
  const roundWhole = options.round === 'up' ? Math.ceil : Math.floor;
  // Division for display only: the stored and summed values stay integers.
  const major = wholeUnits ? roundWhole(minor / 100) : minor / 100;
  return formatter(currency, wholeUnits).format(major);
}

/** Whole amounts without pence ("£1", "£10,000"), others with them ("£5.50"): for limits and rules in sentences. */
export function formatMoneyShort(minor: number, currency: string): string {
  return formatMoney(minor, currency, { wholeUnits: minor % 100 === 0 });
}

/** An amount as a person types it into a form, without currency sign or grouping: "5", "5.50" (the inverse of parseMajorUnits). */
export function majorUnitsText(minor: number): string {
  const whole = Math.trunc(minor / 100);
  const pence = Math.abs(minor % 100);
  return pence === 0 ? String(whole) : `${whole}.${String(pence).padStart(2, '0')}`;
}

/** Percentage of `part` in `whole` with one decimal, for progress bars. */
export function percentOf(part: number, whole: number): number {
  if (whole <= 0) return 0;
  return Math.round((part * 1000) / whole) / 10;
}

/**
 * An amount typed by a person in major units ("10", "12.50", "£1,000.5") as an
 * integer number of minor units, parsed from the digits without floating point.
 * null when it is not such an amount (negative, three decimals, letters, too large).
 * A decimal comma as much of Europe writes it ("5,50", "12,5") is understood too;
 * a comma before three digits ("1,000") groups thousands.
 */
export function parseMajorUnits(text: string): number | null {
  const decimalComma = /^\s*£?\s*(\d+),(\d{1,2})\s*$/.exec(text);
  if (decimalComma) return parseMajorUnits(`${decimalComma[1]}.${decimalComma[2]}`);
  const match = /^\s*£?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  const whole = match[1]!.replaceAll(',', '');
  if (whole.length > 13) return null;
  const minor = BigInt(whole) * 100n + BigInt((match[2] ?? '').padEnd(2, '0'));
  return minor <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(minor) : null;
}
