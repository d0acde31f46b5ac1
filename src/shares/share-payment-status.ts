/**
 * A share application's payment on its way: submitted by Direct Debit, failed,
 * or its Checkout Session expired. Failed and expired applications stop counting
 * toward the holding cap.
 */
import type { AppDeps } from '../deps.js';
import type { Executor } from '../db/database.js';
import type { ShareApplication } from '../db/schema.js';
import { queueEmail } from '../email/outbox.service.js';
import { formatMoney } from '../lib/money.js';
import { humanReference } from '../lib/references.js';
import { findApplication, updateApplication } from './applications.repository.js';

export type AllotDeps = Pick<AppDeps, 'config' | 'clock' | 'logger'>;

/** The application a share-application checkout names, locked for the event's transaction. */
export async function lockedApplication(deps: Pick<AppDeps, 'logger'>, trx: Executor, id: string): Promise<ShareApplication | undefined> {
  const application = await findApplication(trx, id, { forUpdate: true });
  if (!application) deps.logger.error({ applicationId: id }, 'a share-application checkout names no application');
  return application;
}

export async function markProcessing(deps: AllotDeps, trx: Executor, applicationId: string): Promise<void> {
  const application = await lockedApplication(deps, trx, applicationId);
  // Only forward: a success seen first must not be undone by the older "submitted" news.
  if (application?.status !== 'pending') return;
  await updateApplication(trx, applicationId, { status: 'processing', updated_at: deps.clock.now() });
  deps.logger.info({ applicationId }, 'share payment submitted by Direct Debit: awaiting the money');
}

export async function markUnpaid(deps: AllotDeps, trx: Executor, applicationId: string, reason: 'async_payment_failed' | 'expired'): Promise<void> {
  const application = await lockedApplication(deps, trx, applicationId);
  if (application?.status !== 'pending' && application?.status !== 'processing') return;
  await updateApplication(trx, applicationId, { status: reason === 'expired' ? 'expired' : 'failed', updated_at: deps.clock.now() });
  deps.logger.info({ applicationId, reason }, 'share application will not be paid: it no longer counts toward the cap');
  // A Direct Debit the bank did not pay: the applicant is told, with a way to try again.
  if (reason === 'async_payment_failed') {
    await queueEmail(deps, trx, {
      to: application.email,
      template: 'payment-failed',
      personId: application.person_id,
      dedupeKey: `payment-failed:share-application:${applicationId}`,
      vars: {
        name: application.name,
        amount: formatMoney(application.amount, application.currency.trim()),
        what: `${application.shares} share${application.shares === 1 ? '' : 's'} in ${deps.config.society.name}`,
        shares: true,
        retryUrl: `${deps.config.publicUrl}/shares/resume/${application.id}`,
        reference: humanReference('SHARES', application.id),
      },
    });
  }
}
