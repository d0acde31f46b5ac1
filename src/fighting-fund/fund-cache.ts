/**
 * Invalidation of the in-process fund summaries. A generation number rather
 * than a registry of caches: booking an entry bumps it, and every cache in the
 * process (one per app) treats anything loaded under an older generation as stale.
 */
let generation = 0;

/** Call after booking a ledger entry or changing a campaign, so the new figures show at once in this process. */
export function invalidateFundCache(): void {
  generation += 1;
}

export function fundCacheGeneration(): number {
  return generation;
}
