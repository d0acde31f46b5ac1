/**
 * What the Today page shows from components that may or may not be there yet:
 * reconciliations that found something, and supporters (count, monthly total).
 */
import type { AppDeps } from '../deps.js';
import { unresolvedReconciliations } from './reconciliation.service.js';

export interface DeskExtras {
  /** Recent reconciliation runs that found differences or failed, not since found clean. */
  reconciliations: number;
  supporters: { count: number; monthlyTotal: number } | null;
}

export async function deskExtras(deps: AppDeps): Promise<DeskExtras> {
  return { reconciliations: await unresolvedReconciliations(deps), supporters: null };
}
