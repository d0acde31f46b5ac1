/** Ledger entries as the admin API and the audit log show them: rows become views here only. */
import type { LedgerEntry, OfflineMethod } from '../db/schema.js';
import type * as ledger from './ledger.repository.js';

/** A ledger entry as the admin API shows it. */
export interface LedgerEntryView {
  id: number;
  campaign: string;
  kind: LedgerEntry['kind'];
  method: OfflineMethod | null;
  amount: number;
  currency: string;
  givenAt: string;
  recordedAt: string;
  reference: string;
  acknowledged: boolean;
  name: string | null;
  town: string | null;
  reversesEntryId: number | null;
  reason: string | null;
}

export function toLedgerEntryView(entry: LedgerEntry, campaignSlug: string, thanks?: ledger.Thanks | null): LedgerEntryView {
  return {
    id: entry.id,
    campaign: campaignSlug,
    kind: entry.kind,
    method: entry.method,
    amount: entry.amount,
    currency: entry.currency,
    givenAt: entry.given_at.toISOString(),
    recordedAt: entry.recorded_at.toISOString(),
    reference: entry.source_ref,
    acknowledged: entry.acknowledged,
    name: thanks?.name ?? null,
    town: thanks?.town ?? null,
    reversesEntryId: entry.reverses_entry_id,
    reason: entry.reason,
  };
}

/** An entry as the audit log keeps it: the donor's name and town live beside the ledger, not in the append-only log. */
export function withoutDonor(view: LedgerEntryView): Omit<LedgerEntryView, 'name' | 'town'> {
  const { name: _name, town: _town, ...rest } = view;
  return rest;
}
