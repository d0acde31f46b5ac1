/**
 * Allotting shares when a payment is confirmed: an allotment transaction keyed by
 * the PaymentIntent, so the same payment never allots twice whatever the events'
 * order or repetition, admitting the applicant as a member or adding to their
 * holding. A payment that can no longer be honoured is refused (share-refusals.ts);
 * a refund seen before its payment is applied as soon as the payment is booked.
 */
import { systemActor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { Member } from '../db/schema.js';
import type { PaidPayment } from '../payments/payment-handlers.js';
import { tellMemberOfAllotment } from './allotment-emails.js';
import { applyPaymentReturns } from './allotment-reversals.js';
import { lockPersonHolding, sumPaymentReturns, updateApplication } from './applications.repository.js';
import { admitMember, appendShareTransaction } from './register-changes.js';
import { findCurrentMemberForPerson, findMember } from './register.repository.js';
import { localDate } from './share-rules.js';
import { lockedApplication, type AllotDeps } from './share-payment-status.js';
import { queueRefund, refusalFor } from './share-refusals.js';

/** Money confirmed: allot exactly once, or refuse and refund. Returns a note when the money was not simply allotted. */
export async function allotOnPayment(deps: AllotDeps, trx: Executor, applicationId: string, payment: PaidPayment): Promise<string | undefined> {
  const application = await lockedApplication(deps, trx, applicationId);
  if (!application) return `share_application ${applicationId} not found: nothing allotted`;
  if (application.status === 'allotted' || application.status === 'refused' || application.status === 'reversed') {
    if (application.payment_intent_id && application.payment_intent_id !== payment.paymentIntentId) {
      // One checkout per application makes this near impossible; if it happens, the second payment goes back.
      deps.logger.error({ applicationId, paymentIntentId: payment.paymentIntentId }, 'a second payment for a settled share application: refunding it');
      await queueRefund(trx, applicationId, payment.paymentIntentId);
      return `share_application ${applicationId} was already ${application.status}: a second payment, refund queued`;
    }
    return undefined;
  }

  await lockPersonHolding(trx, application.person_id);
  const now = deps.clock.now();
  const paidOn = localDate(payment.paidAt, deps.config.society.timeZone);
  const paid = { paid_at: payment.paidAt, payment_intent_id: payment.paymentIntentId, updated_at: now };

  if ((await sumPaymentReturns(trx, application.id)) >= application.amount) {
    // All of it was given back before the payment's own event reached us: nothing to allot.
    await updateApplication(trx, application.id, { ...paid, status: 'reversed' });
    deps.logger.info({ applicationId }, 'share payment was refunded before it was booked: nothing allotted');
    return `share_application ${applicationId} paid and already refunded in full: nothing allotted`;
  }

  const refusal = await refusalFor(deps, trx, application, payment);
  if (refusal) {
    await updateApplication(trx, application.id, { ...paid, status: 'refused', refusal_reason: refusal });
    // Without an amount Stripe refunds whatever is left of the payment.
    await queueRefund(trx, application.id, payment.paymentIntentId);
    deps.logger.warn({ applicationId, reason: refusal }, 'share payment cannot be honoured: refusing and refunding it');
    return `share_application ${applicationId} refused (${refusal}): refund queued`;
  }

  let member: Member | undefined = application.member_id
    ? await findMember(trx, application.member_id, { forUpdate: true })
    : await findCurrentMemberForPerson(trx, application.person_id, { forUpdate: true });
  const admitted = !member;
  member ??= await admitMember(trx, application, paidOn, now);

  const allotted = await appendShareTransaction(deps, trx, systemActor, {
    member_id: member.id,
    kind: 'allotment',
    shares: application.shares,
    amount: application.amount,
    currency: application.currency,
    effective_on: paidOn,
    recorded_at: now,
    application_id: application.id,
    stripe_key: `payment:${payment.paymentIntentId}`,
  });
  if (!allotted) throw new Error(`payment ${payment.paymentIntentId} was already allotted through another application`);
  const updated = await updateApplication(trx, application.id, { ...paid, status: 'allotted', member_id: member.id });
  deps.logger.info(
    { applicationId, memberNumber: allotted.member.number, shares: application.shares, admitted },
    admitted ? 'shares allotted: new member admitted' : 'shares allotted: holding increased',
  );

  await tellMemberOfAllotment(deps, trx, updated, allotted.member, admitted);
  await applyPaymentReturns(deps, trx, updated, allotted.transaction);
  return undefined;
}
