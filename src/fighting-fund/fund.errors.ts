/** The error codes the fighting fund answers with (besides the common ones in lib/errors.ts). */
import { AppError, type HttpErrorStatus } from '../lib/errors.js';

export type FundErrorCode =
  | 'campaign_not_found'
  | 'campaign_exists'
  | 'campaign_overlaps'
  | 'slug_reserved'
  | 'deadline_before_start'
  | 'currency_not_supported'
  | 'currency_cannot_change'
  | 'monthly_period_fixed'
  | 'given_at_in_future'
  | 'given_at_too_old'
  | 'acknowledgement_needs_name'
  | 'ledger_entry_not_found'
  | 'entry_already_reversed'
  | 'correction_not_reversible'
  | 'stripe_entry_not_reversible'
  | 'duplicate_reference'
  | 'import_rows_invalid'
  | 'import_not_csv';

export function fundError(code: FundErrorCode, status: HttpErrorStatus, message: string, details?: unknown): AppError<FundErrorCode> {
  return new AppError({ code, status, message, details });
}

export const campaignNotFound = (slug: string) =>
  fundError('campaign_not_found', 404, `There is no campaign "${slug}".`, { campaign: slug });
