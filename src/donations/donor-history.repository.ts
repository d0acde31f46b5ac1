/** SQL for a donor's own view of their gifts (account page, data export, erasure). */
import type { Executor } from '../db/database.js';

export async function listDonationsByPerson(db: Executor, personId: string, statuses?: readonly string[]) {
  let q = db
    .selectFrom('donations')
    .innerJoin('campaigns', 'campaigns.id', 'donations.campaign_id')
    .select([
      'donations.id',
      'donations.amount',
      'donations.currency',
      'donations.status',
      'donations.email',
      'donations.name',
      'donations.town',
      'donations.acknowledge',
      'donations.created_at',
      'donations.paid_at',
      'campaigns.slug as campaign_slug',
      'campaigns.title as campaign_title',
    ])
    .where('donations.person_id', '=', personId)
    .orderBy('donations.created_at', 'desc')
    .orderBy('donations.id');
  if (statuses) q = q.where('donations.status', 'in', statuses as never[]);
  return q.execute();
}

/** Erasure: the gift (amount, campaign, dates, status) stays for the accounts; who gave it goes. */
export async function anonymiseDonationsByPerson(db: Executor, personId: string, placeholderEmail: string): Promise<string[]> {
  const rows = await db
    .updateTable('donations')
    .set({ email: placeholderEmail, name: null, town: null })
    .where('person_id', '=', personId)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
