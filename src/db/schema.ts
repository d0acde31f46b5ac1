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
  donor_name: string | null;
  donor_town: string | null;
  reverses_entry_id: number | null;
  reason: string | null;
  recorded_by: string | null;
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
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  actor_id: string | null;
  actor_email: string | null;
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
  payload: ColumnType<unknown, string, never>;
  received_at: DefaultTimestamp;
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

export interface DB {
  campaigns: CampaignsTable;
  ledger_entries: LedgerEntriesTable;
  donations: DonationsTable;
  checkout_sessions: CheckoutSessionsTable;
  stripe_events: StripeEventsTable;
  stripe_event_results: StripeEventResultsTable;
  stripe_event_failures: StripeEventFailuresTable;
  people: PeopleTable;
  audit_log: AuditLogTable;
}

export type Campaign = Selectable<CampaignsTable>;
export type LedgerEntry = Selectable<LedgerEntriesTable>;
export type NewLedgerEntry = Insertable<LedgerEntriesTable>;
export type Donation = Selectable<DonationsTable>;
export type CheckoutSession = Selectable<CheckoutSessionsTable>;
export type Person = Selectable<PeopleTable>;
export type AuditEntry = Selectable<AuditLogTable>;
