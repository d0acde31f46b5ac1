/**
 * The database as Kysely sees it: one interface per table, matching /migrations.
 * int8 columns arrive as numbers (guarded safe integers, see database.ts);
 * `date` columns arrive as 'YYYY-MM-DD' strings.
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

// ---- fighting fund --------------------------------------------------------

export type CampaignKind = 'monthly' | 'special';

export interface CampaignsTable {
  id: Generated<string>;
  slug: string;
  title: string;
  kind: CampaignKind;
  target: number;
  currency: string;
  starts_at: Timestamp;
  deadline: Timestamp;
  created_at: DefaultTimestamp;
}

export type LedgerKind =
  | 'online_donation'
  | 'supporter_payment'
  | 'offline_gift'
  | 'refund'
  | 'dispute'
  | 'dispute_won'
  | 'correction';

export type OfflineMethod = 'cheque' | 'bank_transfer' | 'cash' | 'standing_order' | 'collection' | 'other';

/** Running totals per campaign, in up to 16 slots summed on read (kept by a trigger on ledger_entries). */
export interface CampaignTotalsTable {
  campaign_id: string;
  slot: number;
  raised: ColumnType<number, number | undefined, number>;
  donation_count: ColumnType<number, number | undefined, number>;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  campaign_id: string;
  kind: LedgerKind;
  method: OfflineMethod | null;
  amount: number;
  currency: string;
  given_at: Timestamp;
  recorded_at: DefaultTimestamp;
  source_ref: string;
  stripe_key: string | null;
  donation_id: string | null;
  acknowledged: Generated<boolean>;
  reverses_entry_id: number | null;
  /** For a refund, dispute or dispute won: the payment entry it takes back from (or returns to). */
  original_entry_id: number | null;
  reason: string | null;
  recorded_by: string | null;
}

/**
 * The name and town a donor asked to be thanked with, beside their ledger entry
 * (never in it: the ledger is append-only, and erasure must be able to remove them).
 */
export interface LedgerAcknowledgementsTable {
  entry_id: number;
  acknowledged: Generated<boolean>;
  name: string;
  town: string | null;
}

// ---- donations ------------------------------------------------------------

export type DonationStatus = 'pending' | 'processing' | 'paid' | 'failed' | 'expired';

export interface DonationsTable {
  id: Generated<string>;
  campaign_id: string;
  amount: number;
  currency: string;
  email: string;
  name: string | null;
  town: string | null;
  acknowledge: Generated<boolean>;
  status: Generated<DonationStatus>;
  created_at: DefaultTimestamp;
  paid_at: Timestamp | null;
  person_id: string | null;
}

// ---- people and audit -----------------------------------------------------

export type RoleName = 'admin' | 'treasurer';

export interface PeopleTable {
  id: Generated<string>;
  email: string;
  name: string | null;
  roles: ColumnType<RoleName[], RoleName[] | undefined, RoleName[]>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  postal_address: ColumnType<PostalAddress | null, string | null | undefined, string | null>;
  email_preferences: ColumnType<EmailPreferences, string | undefined, string>;
  session_version: ColumnType<number, number | undefined, number>;
  last_signed_in_at: Timestamp | null;
  erased_at: Timestamp | null;
}

export interface PostalAddress {
  line1: string;
  line2?: string | null;
  town: string;
  postcode: string;
  country: string;
}

/** Which optional emails a person wants; receipts and sign-in links are always sent. */
export interface EmailPreferences {
  fundAppeals?: boolean;
  societyNews?: boolean;
}

// ---- sign-in and email ----------------------------------------------------

export interface LoginTokensTable {
  id: Generated<string>;
  token_hash: string;
  email: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface EndedSessionsTable {
  session_id: string;
  person_id: string;
  ended_at: Timestamp;
  expires_at: Timestamp;
}

export interface RateLimitWindowsTable {
  bucket: string;
  window_start: Timestamp;
  hits: number;
}

/**
 * An email's attachment as stored in `emails.attachments` (jsonb): either its bytes, or a
 * small description of a document the send job draws (email/attachments.ts), so no slow
 * rendering happens in the transaction that queues the email.
 */
export type EmailAttachment = EmailAttachmentBytes | EmailAttachmentToDraw;

export interface EmailAttachmentBytes {
  filename: string;
  contentType: string;
  contentBase64: string;
}

export interface EmailAttachmentToDraw {
  filename: string;
  contentType: string;
  /** Which kind of document (a registered AttachmentKind), e.g. 'share-certificate'. */
  draw: string;
  /** Everything printed on it, as at the moment it was queued (checked by the kind's schema when drawn). */
  facts: unknown;
}

export interface EmailsTable {
  id: Generated<string>;
  person_id: string | null;
  template: string;
  to_address: string;
  from_address: string;
  subject: string;
  html: string;
  text: string;
  attachments: ColumnType<EmailAttachment[], string | undefined, string>;
  message_id: string;
  dedupe_key: string | null;
  created_at: Timestamp;
  attempts: ColumnType<number, number | undefined, number>;
  last_attempt_at: Timestamp | null;
  last_error: string | null;
  sent_at: Timestamp | null;
  transport_response: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  actor_id: string | null;
  action: string;
  subject_type: string;
  subject_id: string;
  before: ColumnType<unknown, string | null, never>;
  after: ColumnType<unknown, string | null, never>;
  request_id: string | null;
}

// ---- payments -------------------------------------------------------------

export type CheckoutPurpose = 'donation' | 'share_application' | 'supporter';
export type CheckoutStatus = 'creating' | 'open' | 'complete' | 'expired';

export interface CheckoutSessionsTable {
  id: Generated<string>;
  purpose: CheckoutPurpose;
  record_id: string;
  mode: 'payment' | 'subscription';
  amount: number;
  currency: string;
  stripe_session_id: string | null;
  url: string | null;
  payment_intent_id: string | null;
  customer_id: string | null;
  subscription_id: string | null;
  status: Generated<CheckoutStatus>;
  payment_status: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface StripeEventsTable {
  id: string;
  type: string;
  created: Timestamp;
  livemode: boolean;
  api_version: string | null;
  /** Replaced once, by stripe_payload_redacted(payload), when its personal fields are removed. */
  payload: ColumnType<unknown, string, never>;
  received_at: DefaultTimestamp;
  /** When the payload's personal fields were removed (after application, or on erasure). */
  redacted_at: ColumnType<Date | null, never, never>;
}

export interface StripeEventResultsTable {
  event_id: string;
  outcome: 'applied' | 'ignored';
  note: string | null;
  processed_at: DefaultTimestamp;
}

export interface StripeEventFailuresTable {
  id: Generated<number>;
  event_id: string;
  error: string;
  failed_at: DefaultTimestamp;
}

/** Each instance's job worker announcing itself (lib/job-worker.ts). */
export interface WorkerHeartbeatsTable {
  worker_id: string;
  instance: string;
  beat_at: DefaultTimestamp;
}

// ---- supporters -----------------------------------------------------------

export type SupporterStatus = 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'unpaid' | 'paused' | 'canceled';
export type SupporterInterval = 'month' | 'year';

/** A change asked of Stripe, shown as pending until its webhook confirms it. */
export interface SupporterPendingChange {
  amount?: number;
  interval?: SupporterInterval;
  pause?: boolean;
  cancel?: boolean;
  /** ISO instant the change was asked for. */
  requestedAt: string;
}

export interface SupportersTable {
  id: Generated<string>;
  person_id: string;
  email: string;
  name: string | null;
  acknowledge: Generated<boolean>;
  amount: number;
  currency: string;
  interval: SupporterInterval;
  status: Generated<SupporterStatus>;
  stripe_subscription_id: string | null;
  stripe_customer_id: string | null;
  stripe_item_id: string | null;
  stripe_product_id: string | null;
  current_period_end: Timestamp | null;
  cancel_at_period_end: Generated<boolean>;
  paused: Generated<boolean>;
  state_at: Timestamp | null;
  pending_change: ColumnType<SupporterPendingChange | null, string | null | undefined, string | null>;
  change_count: Generated<number>;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

/** The further PaymentIntents of a checkout: each paid invoice of a subscription. */
export interface CheckoutPaymentsTable {
  payment_intent_id: string;
  checkout_id: string;
  invoice_id: string;
  charge_id: string | null;
  amount: number;
  currency: string;
  paid_at: Timestamp;
}

export interface SignedLinkUsesTable {
  jti: string;
  subject_id: string;
  action: string;
  used_at: Timestamp;
}

// ---- shares and membership ------------------------------------------------

export type ApplicantKind = 'person' | 'organisation';
export type ShareApplicationStatus = 'pending' | 'processing' | 'allotted' | 'expired' | 'failed' | 'refused' | 'reversed';

export interface ShareApplicationsTable {
  id: Generated<string>;
  person_id: string;
  member_id: string | null;
  applicant_kind: ApplicantKind;
  name: string;
  email: string;
  address_line1: string;
  address_line2: string | null;
  town: string;
  postcode: string;
  country: string;
  date_of_birth: string | null;
  registered_society: Generated<boolean>;
  shares: number;
  price_per_share: number;
  amount: number;
  currency: string;
  status: Generated<ShareApplicationStatus>;
  refusal_reason: string | null;
  rules_accepted_at: Timestamp;
  rules_url: string;
  payment_intent_id: string | null;
  paid_at: Timestamp | null;
  refund_id: string | null;
  refunded_at: Timestamp | null;
  dispute_status: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** When the applicant's personal details were erased at their request (see the erasure migration). */
  erased_at: Timestamp | null;
  /** Made by the signed-in owner of the address: only such an application holds room under the cap until paid. */
  holds_room: Generated<boolean>;
}

export interface MembersTable {
  id: Generated<string>;
  number: Generated<number>;
  person_id: string;
  kind: ApplicantKind;
  name: string;
  address_line1: string;
  address_line2: string | null;
  town: string;
  postcode: string;
  country: string;
  email: string | null;
  registered_society: Generated<boolean>;
  admitted_on: string;
  ceased_on: string | null;
  /** Kept by a trigger on share_transactions: never written directly. */
  shares_held: Generated<number>;
  amount_paid: Generated<number>;
  currency: string;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export type ShareTransactionKind = 'allotment' | 'withdrawal' | 'transfer_on_death' | 'forfeit' | 'reversal';

export interface ShareTransactionsTable {
  id: Generated<number>;
  member_id: string;
  kind: ShareTransactionKind;
  shares: number;
  amount: number;
  currency: string;
  effective_on: string;
  recorded_at: Timestamp;
  application_id: string | null;
  withdrawal_id: string | null;
  reverses_transaction_id: number | null;
  stripe_key: string | null;
  note: string | null;
  recorded_by: string | null;
}

export interface SharePaymentReturnsTable {
  id: Generated<number>;
  application_id: string;
  stripe_key: string;
  kind: 'refund' | 'dispute_lost';
  amount: number;
  currency: string;
  returned_at: Timestamp;
  recorded_at: Timestamp;
}

export type ShareWithdrawalStatus = 'requested' | 'approved' | 'rejected' | 'deferred' | 'paid';

export interface ShareWithdrawalsTable {
  id: Generated<string>;
  member_id: string;
  shares: number;
  status: Generated<ShareWithdrawalStatus>;
  requested_at: Timestamp;
  requested_by: string;
  notice_ends_on: string;
  decided_at: Timestamp | null;
  decided_by: string | null;
  note: string | null;
  paid_at: Timestamp | null;
  paid_by: string | null;
  amount: number | null;
  updated_at: Timestamp;
}

// ---- the treasurer's desk -------------------------------------------------

export type ReconciliationTrigger = 'page' | 'api' | 'schedule' | 'repair';
export type ReconciliationOutcome = 'clean' | 'differences' | 'failed';

/** One comparison of Stripe with our books (see admin/reconciliation.service.ts). */
export interface ReconciliationRunsTable {
  id: Generated<number>;
  period_from: string;
  period_to: string;
  started_at: Timestamp;
  trigger: ReconciliationTrigger;
  actor_id: string | null;
  outcome: ReconciliationOutcome;
  differences: Generated<number>;
  summary: ColumnType<unknown, string | undefined, string>;
  error: string | null;
}

export interface DB {
  campaigns: CampaignsTable;
  ledger_entries: LedgerEntriesTable;
  campaign_totals: CampaignTotalsTable;
  ledger_acknowledgements: LedgerAcknowledgementsTable;
  donations: DonationsTable;
  checkout_sessions: CheckoutSessionsTable;
  stripe_events: StripeEventsTable;
  stripe_event_results: StripeEventResultsTable;
  stripe_event_failures: StripeEventFailuresTable;
  worker_heartbeats: WorkerHeartbeatsTable;
  people: PeopleTable;
  audit_log: AuditLogTable;
  login_tokens: LoginTokensTable;
  ended_sessions: EndedSessionsTable;
  rate_limit_windows: RateLimitWindowsTable;
  emails: EmailsTable;
  share_applications: ShareApplicationsTable;
  members: MembersTable;
  share_transactions: ShareTransactionsTable;
  share_payment_returns: SharePaymentReturnsTable;
  share_withdrawals: ShareWithdrawalsTable;
  reconciliation_runs: ReconciliationRunsTable;
  supporters: SupportersTable;
  checkout_payments: CheckoutPaymentsTable;
  signed_link_uses: SignedLinkUsesTable;
}

export type Campaign = Selectable<CampaignsTable>;
export type LedgerEntry = Selectable<LedgerEntriesTable>;
export type NewLedgerEntry = Insertable<LedgerEntriesTable>;
export type Donation = Selectable<DonationsTable>;
export type CheckoutSession = Selectable<CheckoutSessionsTable>;
export type Person = Selectable<PeopleTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type Email = Selectable<EmailsTable>;
export type ShareApplication = Selectable<ShareApplicationsTable>;
export type Member = Selectable<MembersTable>;
export type ShareTransaction = Selectable<ShareTransactionsTable>;
export type SharePaymentReturn = Selectable<SharePaymentReturnsTable>;
export type ShareWithdrawal = Selectable<ShareWithdrawalsTable>;
export type ReconciliationRun = Selectable<ReconciliationRunsTable>;
export type Supporter = Selectable<SupportersTable>;
export type CheckoutPayment = Selectable<CheckoutPaymentsTable>;
