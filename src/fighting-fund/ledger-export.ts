/** The treasurer's CSV export of the ledger, streamed page by page. */
import { rowsByPage } from '../lib/keyset-pages.js';
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import { findCampaignBySlug } from './campaigns.service.js';
import { campaignNotFound } from './fund.errors.js';
import * as ledger from './ledger.repository.js';

export const LEDGER_CSV_COLUMNS = [
  'id',
  'campaign',
  'kind',
  'method',
  'amount_pence',
  'currency',
  'given_at',
  'recorded_at',
  'reference',
  'stripe_key',
  'donation_id',
  'acknowledged',
  'donor_name',
  'donor_town',
  'reverses_entry_id',
  'original_entry_id',
  'reason',
  'recorded_by',
] as const;

export type LedgerCsvRow = Record<(typeof LEDGER_CSV_COLUMNS)[number], string | number | boolean | null>;

/**
 * Opens the ledger export (one campaign, or the whole ledger): checks the
 * campaign, audits the export, and yields rows page by page so a large ledger
 * streams without being held in memory.
 */
export async function openLedgerExport(
  deps: AppDeps,
  actor: Actor,
  query: { campaign?: string | undefined },
): Promise<{ filename: string; rows: AsyncIterable<LedgerCsvRow> }> {
  const campaign = await deps.db.transaction().execute(async (trx) => {
    const found = query.campaign ? await findCampaignBySlug(trx, query.campaign) : undefined;
    if (query.campaign && !found) throw campaignNotFound(query.campaign);
    await recordAudit(trx, deps.clock, actor, {
      action: 'ledger.exported',
      subjectType: found ? 'campaign' : 'ledger',
      subjectId: found ? found.slug : 'all',
    });
    return found;
  });
  async function* rows(): AsyncGenerator<LedgerCsvRow> {
    const entries = rowsByPage((after: number | null, limit) => ledger.listEntriesAfter(deps.db, { campaignId: campaign?.id, afterId: after ?? 0, limit }), (e) => e.id);
    for await (const e of entries) {
      yield {
        id: e.id,
        campaign: e.campaign_slug,
        kind: e.kind,
        method: e.method,
        amount_pence: e.amount,
        currency: e.currency,
        given_at: e.given_at.toISOString(),
        recorded_at: e.recorded_at.toISOString(),
        reference: e.source_ref,
        stripe_key: e.stripe_key,
        donation_id: e.donation_id,
        acknowledged: e.acknowledged,
        donor_name: e.donor_name,
        donor_town: e.donor_town,
        reverses_entry_id: e.reverses_entry_id,
        original_entry_id: e.original_entry_id,
        reason: e.reason,
        recorded_by: e.recorded_by,
      };
    }
  }
  return { filename: campaign ? `ledger-${campaign.slug}.csv` : 'ledger.csv', rows: rows() };
}
