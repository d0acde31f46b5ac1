/**
 * Refusing a share payment that can no longer be honoured (over the holding cap,
 * the membership ended, the applicant erased, the wrong amount): the application
 * is marked refused inside the event's transaction and a job gives the money back
 * at Stripe afterwards, then emails the applicant why.
 */
import type { AppDeps } from '../deps.js';
import type { Executor } from '../db/database.js';
import type { Member, ShareApplication } from '../db/schema.js';
import { addJob } from '../lib/jobs.js';
import type { PaidPayment } from '../payments/payment-handlers.js';
import { refundPayment } from '../payments/refunds.service.js';
import { queueEmail } from '../email/outbox.service.js';
import { findApplication, sumAwaitingPayment, sumPaymentReturns, updateApplication } from './applications.repository.js';
import { readableMoney } from './applications.service.js';
import { findCurrentMemberForPerson, findMember } from './register.repository.js';
import { checkCap, isExemptFromCap } from './share-rules.js';

export const REFUND_SHARE_PAYMENT_TASK = 'shares:refund-payment';

/** Why a paid application was not honoured (stored on the application, told to the applicant). */
export type RefusalReason = 'holding_cap_exceeded' | 'applicant_ceased' | 'applicant_mismatch' | 'amount_mismatch' | 'applicant_erased';

const refusalExplanations: Record<RefusalReason, (a: ShareApplication, max: string) => string> = {
  holding_cap_exceeded: (_a, max) =>
    `These shares would have taken the holding of this email address above ${max}, the most anyone may hold, so we have refunded your payment in full. ` +
    'If you already hold shares, sign in before applying to see how many more you can have.',
  applicant_ceased: () => 'The membership these shares were to be added to had ended by the time your payment reached us.',
  applicant_mismatch: (a) =>
    `Your email address now belongs to a member who is ${a.applicant_kind === 'person' ? 'an organisation' : 'a person'}, so we could not add these shares.`,
  amount_mismatch: () => 'The amount we received did not match the shares applied for.',
  applicant_erased: () => 'You asked us to erase your details before your payment reached us, so we could not enter you in the register.',
};

/** Why a confirmed payment cannot be honoured now, or null when the shares can be allotted. */
export async function refusalFor(
  deps: Pick<AppDeps, 'config'>,
  trx: Executor,
  application: ShareApplication,
  payment: PaidPayment,
): Promise<RefusalReason | null> {
  if (payment.amount !== application.amount || payment.currency.toUpperCase() !== application.currency.trim()) return 'amount_mismatch';
  // Erasure is refused while money is on its way, but an erased application left nothing to enter in the register.
  if (application.erased_at) return 'applicant_erased';
  let member: Member | undefined;
  if (application.member_id) {
    member = await findMember(trx, application.member_id);
    if (member?.ceased_on) return 'applicant_ceased';
  } else {
    member = await findCurrentMemberForPerson(trx, application.person_id);
    if (member && member.kind !== application.applicant_kind) return 'applicant_mismatch';
  }
  if (!isExemptFromCap(member, { kind: application.applicant_kind, registeredSociety: application.registered_society })) {
    // Under the holding lock. The owner's own (signed-in) applications awaiting payment were
    // promised their room: any other payment may only use what they leave. A stranger's
    // unpaid application holds no room, so it never stops the owner's.
    const verdict = checkCap({
      held: member?.amount_paid ?? 0,
      pending: await sumAwaitingPayment(trx, application.person_id, application.id),
      requested: application.amount,
      maxHolding: deps.config.shares.maxHolding,
      pricePerShare: deps.config.shares.price,
    });
    if (!verdict.allowed) return 'holding_cap_exceeded';
  }
  return null;
}

/** Queues the job that gives a payment back (once per PaymentIntent). */
export async function queueRefund(trx: Executor, applicationId: string, paymentIntentId: string): Promise<void> {
  await addJob(trx, REFUND_SHARE_PAYMENT_TASK, { applicationId, paymentIntentId }, { jobKey: `shares-refund:${paymentIntentId}`, maxAttempts: 25 });
}

/**
 * Worker task: gives back a share payment that could not be honoured. Stripe's
 * idempotency key is per payment, so a retried job never refunds twice; the
 * applicant is told once the refund exists.
 */
export async function refundSharePayment(
  deps: Pick<AppDeps, 'config' | 'clock' | 'db' | 'logger' | 'stripe'>,
  payload: { applicationId: string; paymentIntentId: string },
): Promise<void> {
  const application = await findApplication(deps.db, payload.applicationId);
  if (!application) return;
  const isRefusal = application.status === 'refused' && application.payment_intent_id === payload.paymentIntentId;
  if (isRefusal && application.refund_id) return;
  const reason = isRefusal ? `share application ${application.id} refused: ${application.refusal_reason}` : `second payment for share application ${application.id}`;
  const refundId = isRefusal && (await sumPaymentReturns(deps.db, application.id)) >= application.amount
    ? // Someone gave it all back already (the treasurer, from Stripe's dashboard): only the applicant is left to tell.
      'already-refunded'
    : await refundOrAlreadyRefunded(deps, payload.paymentIntentId, reason);
  if (!isRefusal) return;
  await deps.db.transaction().execute(async (trx) => {
    const locked = await findApplication(trx, application.id, { forUpdate: true });
    if (!locked || locked.refund_id) return;
    const now = deps.clock.now();
    await updateApplication(trx, application.id, { refund_id: refundId, refunded_at: now, updated_at: now });
    const currency = locked.currency.trim();
    // The column is text: a reason written by an older version may have no explanation.
    const explain = (refusalExplanations as Partial<Record<string, (a: ShareApplication, max: string) => string>>)[locked.refusal_reason ?? ''];
    await queueEmail(deps, trx, {
      to: locked.email,
      template: 'shares/refused',
      personId: locked.person_id,
      vars: {
        name: locked.name,
        shares: locked.shares,
        amount: readableMoney(locked.amount, currency),
        explanation: explain?.(locked, readableMoney(deps.config.shares.maxHolding, currency)) ?? 'We could not allot these shares.',
      },
    });
  });
}

/** Asks Stripe for the refund; a payment Stripe says is already fully refunded counts as done, not as a failure to retry. */
async function refundOrAlreadyRefunded(deps: Pick<AppDeps, 'stripe' | 'logger'>, paymentIntentId: string, reason: string): Promise<string> {
  try {
    const refund = await refundPayment(deps, { paymentIntentId, reason, idempotencyKey: `share-application-refund:${paymentIntentId}` });
    return refund.refundId;
  } catch (err) {
    const code = (err as { cause?: { code?: unknown; raw?: { code?: unknown } } }).cause ?? {};
    if (code.code === 'charge_already_refunded' || code.raw?.code === 'charge_already_refunded') {
      deps.logger.warn({ paymentIntentId }, 'share payment was already refunded at Stripe');
      return 'already-refunded';
    }
    throw err;
  }
}
