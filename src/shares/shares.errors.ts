/** The error codes of the shares component (stable: clients and tests rely on them). */
export type SharesErrorCode =
  | 'holding_cap_exceeded'
  | 'below_minimum_shares'
  | 'under_minimum_age'
  | 'rules_not_accepted'
  | 'applicant_mismatch'
  | 'amount_too_large'
  | 'not_a_member'
  | 'withdrawal_exceeds_holding'
  | 'below_minimum_holding'
  | 'withdrawal_not_found'
  | 'invalid_transition'
  | 'insufficient_holding'
  | 'application_awaiting_payment'
  | 'member_not_found';
