/** The supporters component's error codes (SPEC 3 error body). */
import { AppError, type HttpErrorStatus } from '../lib/errors.js';

export type SupporterErrorCode =
  | 'amount_below_minimum'
  | 'amount_above_maximum'
  | 'acknowledgement_needs_name'
  | 'already_supporting'
  | 'not_a_supporter'
  | 'subscription_not_changeable'
  | 'nothing_to_change'
  | 'no_billing_account'
  | 'link_invalid'
  | 'link_expired'
  | 'link_used';

export const supporterError = (code: SupporterErrorCode, status: HttpErrorStatus, message: string, details?: Record<string, unknown>) =>
  new AppError<SupporterErrorCode>({ code, status, message, ...(details ? { details } : {}) });
