/**
 * What the Today page shows from components that may or may not be there yet:
 * reconciliations that found something, and supporters (count, monthly total).
 */
import type { AppDeps } from '../deps.js';

export interface DeskExtras {
  /** Recent reconciliation runs that found differences or failed. */
  reconciliations: number;
  supporters: { count: number; monthlyTotal: number } | null;
}

export async function deskExtras(_deps: AppDeps): Promise<DeskExtras> {
  return { reconciliations: 0, supporters: null };
}
