/** Undoing a mistaken offline gift with a correcting entry (the ledger is append-only). */
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import { findCampaignById } from './campaigns.service.js';
import { invalidateFundCache } from './fund-cache.js';
import { fundError } from './fund.errors.js';
import * as ledger from './ledger.repository.js';
import { toLedgerEntryView, withoutDonor, type LedgerEntryView } from './ledger.views.js';

/**
 * Undoes an offline gift with a correction of the opposite sign in the same
 * campaign. Stripe's own entries are corrected by Stripe (a refund), and a
 * correction is final: reversing it would only re-book the mistake.
 */
export async function reverseEntry(deps: AppDeps, actor: Actor, id: number, reason: string): Promise<LedgerEntryView> {
  const view = await deps.db.transaction().execute(async (trx) => {
    const entry = await ledger.findEntryById(trx, id);
    if (!entry) throw fundError('ledger_entry_not_found', 404, `There is no ledger entry ${id}.`);
    if (entry.kind === 'correction') {
      throw fundError('correction_not_reversible', 422, 'A correction cannot be reversed: record the gift again instead.');
    }
    if (entry.stripe_key !== null) {
      throw fundError('stripe_entry_not_reversible', 422, 'Entries booked from Stripe are corrected in Stripe (refund the payment there).');
    }
    const reversal = await ledger.insertReversal(trx, {
      campaign_id: entry.campaign_id,
      kind: 'correction',
      amount: -entry.amount,
      currency: entry.currency,
      given_at: entry.given_at,
      recorded_at: deps.clock.now(),
      source_ref: `reversal of entry ${entry.id}`,
      acknowledged: false,
      reverses_entry_id: entry.id,
      reason,
      recorded_by: actor.id,
    });
    if (!reversal) throw fundError('entry_already_reversed', 409, `Ledger entry ${id} has been reversed already.`);
    const campaign = await findCampaignById(trx, entry.campaign_id);
    const view = toLedgerEntryView(reversal, campaign!.slug);
    await recordAudit(trx, deps.clock, actor, {
      action: 'ledger.entry_reversed',
      subjectType: 'ledger_entry',
      subjectId: String(entry.id),
      before: withoutDonor(toLedgerEntryView(entry, campaign!.slug)),
      after: withoutDonor(view),
    });
    return view;
  });
  invalidateFundCache();
  return view;
}
