/** All SQL about donations. */
import type { Executor } from '../db/database.js';
import type { Donation } from '../db/schema.js';

export interface NewDonation {
  campaignId: string;
  amount: number;
  currency: string;
  email: string;
  name: string | null;
  town: string | null;
  acknowledge: boolean;
  personId: string | null;
  createdAt: Date;
}

export function insertDonation(db: Executor, d: NewDonation): Promise<Donation> {
  return db
    .insertInto('donations')
    .values({
      campaign_id: d.campaignId,
      amount: d.amount,
      currency: d.currency,
      email: d.email,
      name: d.name,
      town: d.town,
      acknowledge: d.acknowledge,
      person_id: d.personId,
      status: 'pending',
      created_at: d.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findDonation(db: Executor, id: string): Promise<Donation | undefined> {
  return db.selectFrom('donations').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Marks the donation paid (keeping the first paid_at) and returns it with the status
 * it had before, in one statement: `previousStatus !== 'paid'` means this call paid it.
 */
export async function markDonationPaid(db: Executor, id: string, paidAt: Date): Promise<{ donation: Donation; previousStatus: Donation['status'] } | undefined> {
  const row = await db
    .with('before', (qb) => qb.selectFrom('donations').select(['id', 'status']).where('id', '=', id).forUpdate())
    .updateTable('donations')
    .from('before')
    .set((eb) => ({ status: 'paid', paid_at: eb.fn.coalesce('donations.paid_at', eb.val(paidAt)) }))
    .whereRef('donations.id', '=', 'before.id')
    .returningAll('donations')
    .returning('before.status as previous_status')
    .executeTakeFirst();
  if (!row) return undefined;
  const { previous_status: previousStatus, ...donation } = row;
  return { donation, previousStatus };
}

/** pending -> processing (a Bacs Direct Debit submitted); never moves a settled donation back. */
export async function markDonationProcessing(db: Executor, id: string): Promise<void> {
  await db.updateTable('donations').set({ status: 'processing' }).where('id', '=', id).where('status', '=', 'pending').execute();
}

/** A payment that will not come: only an unsettled donation changes. */
export async function markDonationUnpaid(db: Executor, id: string, status: 'failed' | 'expired'): Promise<void> {
  await db
    .updateTable('donations')
    .set({ status })
    .where('id', '=', id)
    .where('status', 'in', status === 'expired' ? ['pending'] : ['pending', 'processing'])
    .execute();
}
