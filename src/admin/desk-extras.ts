/**
 * What the Today page shows from other components: reconciliations that found
 * something, and the supporters (how many, what they give a month).
 */
import type { AppDeps } from '../deps.js';
import { supporterTotals } from '../supporters/supporters-admin.js';
import { unresolvedReconciliations } from './reconciliation.service.js';

export interface DeskExtras {
  /** Recent reconciliation runs that found differences or failed, not since found clean. */
  reconciliations: number;
  supporters: { count: number; monthlyTotal: number } | null;
}

export async function deskExtras(deps: AppDeps): Promise<DeskExtras> {
  const [reconciliations, supporters] = await Promise.all([unresolvedReconciliations(deps), supporterTotals(deps)]);
  return { reconciliations, supporters };
}
