/** The figures of every campaign running now, for the operators' metrics (GET /metrics). */
import type { FundDbDeps } from './campaigns.service.js';
import { listOpenCampaignTotals } from './campaigns.repository.js';

export interface OpenCampaignFigures {
  slug: string;
  target: number;
  raised: number;
  donationCount: number;
}

/** Straight from the ledger (not the 1 s cache): every instance reports the same figures. */
export async function openCampaignFigures(deps: FundDbDeps): Promise<OpenCampaignFigures[]> {
  const rows = await listOpenCampaignTotals(deps.db, deps.clock.now());
  return rows.map((r) => ({ slug: r.slug, target: r.target, raised: r.raised, donationCount: r.donation_count }));
}
