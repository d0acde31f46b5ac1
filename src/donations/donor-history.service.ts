/**
 * A donor's own gifts, for the members component (account page, GET /api/me,
 * the data export and erasure). Written by AUTH (issue 3) beside PAY's donations code.
 */
import type { Executor } from '../db/database.js';
import { forgetThanksForDonations } from '../fighting-fund/acknowledgements.js';
import { anonymiseDonationsByPerson, listDonationsByPerson } from './donor-history.repository.js';

export interface DonationSummary {
  id: string;
  amount: number;
  currency: string;
  status: string;
  campaign: { slug: string; title: string };
  createdAt: string;
  paidAt: string | null;
}

/** Gifts given (paid, or a Direct Debit on its way), newest first. */
export async function donationsOfPerson(db: Executor, personId: string): Promise<DonationSummary[]> {
  const rows = await listDonationsByPerson(db, personId, ['paid', 'processing']);
  return rows.map((r) => ({
    id: r.id,
    amount: r.amount,
    currency: r.currency.trim(),
    status: r.status,
    campaign: { slug: r.campaign_slug, title: r.campaign_title },
    createdAt: r.created_at.toISOString(),
    paidAt: r.paid_at?.toISOString() ?? null,
  }));
}

/** Everything we hold about the person's donations, started or given, for the data export. */
export async function donationRecordsOfPerson(db: Executor, personId: string) {
  const rows = await listDonationsByPerson(db, personId);
  return rows.map((r) => ({
    id: r.id,
    amount: r.amount,
    currency: r.currency.trim(),
    status: r.status,
    email: r.email,
    name: r.name,
    town: r.town,
    acknowledge: r.acknowledge,
    campaign: { slug: r.campaign_slug, title: r.campaign_title },
    createdAt: r.created_at.toISOString(),
    paidAt: r.paid_at?.toISOString() ?? null,
  }));
}

/**
 * Erasure: the donor's email, name and town go from their donations, and the name and
 * town they were publicly thanked with go from beside the ledger; amounts stay.
 */
export async function anonymiseDonationsOfPerson(
  db: Executor,
  personId: string,
  placeholderEmail: string,
): Promise<{ donationIds: string[]; acknowledgements: number }> {
  const donationIds = await anonymiseDonationsByPerson(db, personId, placeholderEmail);
  return { donationIds, acknowledgements: await forgetThanksForDonations(db, donationIds) };
}
