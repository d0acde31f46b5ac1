/**
 * What Stripe's news does to a share application, always inside the webhook
 * event's transaction:
 *
 * - paid: the shares are allotted (an allotment transaction keyed by the
 *   PaymentIntent, so the same payment never allots twice whatever the events'
 *   order or repetition), admitting the applicant as a member or adding to their
 *   holding, or, when the application can no longer be honoured, the payment is
 *   refused and a refund job queued (Stripe is called after commit, by the worker).
 * - Bacs submitted / failed, session expired: the application's status follows;
 *   failed and expired applications stop counting toward the cap.
 * - refunded, dispute lost: the money given back is recorded once per Stripe
 *   object, and the allotment is reversed by as many shares as it no longer pays
 *   for (never deleting anything). A refund seen before its payment is remembered
 *   and applied when the payment is booked.
 * - disputes: the register changes only when a dispute is LOST (charge.dispute.closed
 *   with status lost). While a dispute is open the shares stand and the application
 *   notes it; a won dispute therefore never needs to re-allot anything, and the
 *   register does not churn (a member ceasing and being readmitted) over a chargeback
 *   that the society wins.
 */
import type { AppDeps } from '../deps.js';
import { systemActor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { Member, ShareApplication, ShareTransaction } from '../db/schema.js';
import { queueEmail } from '../email/outbox.service.js';
import { addJob } from '../lib/jobs.js';
import type { PaidPayment, PaymentHandler } from '../payments/payment-handlers.js';
import { refundPayment } from '../payments/refunds.service.js';
import {
  findApplication,
  insertPaymentReturn,
  listPaymentReturns,
  lockPersonHolding,
  sumAwaitingPayment,
  sumPaymentReturns,
  updateApplication,
} from './applications.repository.js';
import { readableMoney } from './applications.service.js';
import { longDate } from './certificate.js';
import { admitMember, appendShareTransaction, certificateFor } from './register.service.js';
import { findAllotmentForApplication, findCurrentMemberForPerson, findMember, sumReversalsOf } from './register.repository.js';
import { localDate, sharesToReverse } from './share-rules.js';

type AllotDeps = Pick<AppDeps, 'config' | 'clock' | 'logger'>;

export const REFUND_SHARE_PAYMENT_TASK = 'shares:refund-payment';

/** Why a paid application was not honoured (stored on the application, told to the applicant). */
export type RefusalReason = 'holding_cap_exceeded' | 'applicant_ceased' | 'applicant_mismatch' | 'amount_mismatch' | 'applicant_erased';

const refusalExplanations: Record<RefusalReason, (a: ShareApplication, max: string) => string> = {
  holding_cap_exceeded: (_a, max) =>
    `By the time your payment reached us, these shares would have taken your holding above ${max}, the most anyone may hold.`,
  applicant_ceased: () => 'The membership these shares were to be added to had ended by the time your payment reached us.',
  applicant_mismatch: (a) =>
    `Your email address now belongs to a member who is ${a.applicant_kind === 'person' ? 'an organisation' : 'a person'}, so we could not add these shares.`,
  amount_mismatch: () => 'The amount we received did not match the shares applied for.',
  applicant_erased: () => 'You asked us to erase your details before your payment reached us, so we could not enter you in the register.',
};

/** The PaymentHandler the webhook dispatcher calls for purpose 'share_application'. */
export function createSharePaymentHandler(deps: AppDeps): PaymentHandler {
  return {
    onPaid: (ctx, payment) => allotOnPayment(deps, ctx.trx, ctx.checkout.record_id, payment),
    onProcessing: (ctx) => markProcessing(deps, ctx.trx, ctx.checkout.record_id),
    onFailed: (ctx, reason) => markUnpaid(deps, ctx.trx, ctx.checkout.record_id, reason),
    onRefunded: (ctx, refund) =>
      recordMoneyBack(deps, ctx.trx, ctx.checkout.record_id, {
        stripeKey: `refund:${refund.refundId}`,
        kind: 'refund',
        amount: refund.amount,
        currency: refund.currency,
        at: refund.refundedAt,
        originalPayment: refund.originalPayment,
      }),
    onDisputeOpened: (ctx, dispute) => noteDispute(deps, ctx.trx, ctx.checkout.record_id, 'open', dispute.disputeId),
    onDisputeClosed: (ctx, dispute) =>
      dispute.status === 'lost'
        ? recordMoneyBack(deps, ctx.trx, ctx.checkout.record_id, {
            stripeKey: `dispute:${dispute.disputeId}`,
            kind: 'dispute_lost',
            amount: dispute.amount,
            currency: dispute.currency,
            at: dispute.at,
            originalPayment: dispute.originalPayment,
          }).then(() => noteDispute(deps, ctx.trx, ctx.checkout.record_id, 'lost', dispute.disputeId))
        : noteDispute(deps, ctx.trx, ctx.checkout.record_id, dispute.status, dispute.disputeId),
  };
}

async function lockedApplication(deps: AllotDeps, trx: Executor, id: string): Promise<ShareApplication | undefined> {
  const application = await findApplication(trx, id, { forUpdate: true });
  if (!application) deps.logger.error({ applicationId: id }, 'a share-application checkout names no application');
  return application;
}

/** Money confirmed: allot exactly once, or refuse and refund. */
export async function allotOnPayment(deps: AllotDeps, trx: Executor, applicationId: string, payment: PaidPayment): Promise<void> {
  const application = await lockedApplication(deps, trx, applicationId);
  if (!application) return;
  if (application.status === 'allotted' || application.status === 'refused' || application.status === 'reversed') {
    if (application.payment_intent_id && application.payment_intent_id !== payment.paymentIntentId) {
      // One checkout per application makes this near impossible; if it happens, the second payment goes back.
      deps.logger.error({ applicationId, paymentIntentId: payment.paymentIntentId }, 'a second payment for a settled share application: refunding it');
      await queueRefund(trx, applicationId, payment.paymentIntentId);
    }
    return;
  }

  await lockPersonHolding(trx, application.person_id);
  const now = deps.clock.now();
  const paidOn = localDate(payment.paidAt, deps.config.society.timeZone);
  const paid = { paid_at: payment.paidAt, payment_intent_id: payment.paymentIntentId, updated_at: now };

  if ((await sumPaymentReturns(trx, application.id)) >= application.amount) {
    // All of it was given back before the payment's own event reached us: nothing to allot.
    await updateApplication(trx, application.id, { ...paid, status: 'reversed' });
    deps.logger.info({ applicationId }, 'share payment was refunded before it was booked: nothing allotted');
    return;
  }

  const refusal = await refusalFor(deps, trx, application, payment);
  if (refusal) {
    await updateApplication(trx, application.id, { ...paid, status: 'refused', refusal_reason: refusal });
    // Without an amount Stripe refunds whatever is left of the payment.
    await queueRefund(trx, application.id, payment.paymentIntentId);
    deps.logger.warn({ applicationId, reason: refusal }, 'share payment cannot be honoured: refusing and refunding it');
    return;
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
}

async function refusalFor(deps: AllotDeps, trx: Executor, application: ShareApplication, payment: PaidPayment): Promise<RefusalReason | null> {
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
  const exempt = member ? member.registered_society : application.registered_society;
  if (!exempt) {
    // Applications still awaiting payment were promised their room: a late payment (its
    // application expired meanwhile) may only use what they leave.
    const others = await sumAwaitingPayment(trx, application.person_id, application.id);
    if ((member?.amount_paid ?? 0) + others + application.amount > deps.config.shares.maxHolding) return 'holding_cap_exceeded';
  }
  return null;
}

async function queueRefund(trx: Executor, applicationId: string, paymentIntentId: string): Promise<void> {
  await addJob(trx, REFUND_SHARE_PAYMENT_TASK, { applicationId, paymentIntentId }, { jobKey: `shares-refund:${paymentIntentId}`, maxAttempts: 25 });
}

async function tellMemberOfAllotment(deps: AllotDeps, trx: Executor, application: ShareApplication, member: Member, admitted: boolean): Promise<void> {
  const currency = member.currency.trim();
  const vars = {
    name: member.name,
    memberNumber: member.number,
    sharesAllotted: application.shares,
    amountPaid: readableMoney(application.amount, currency),
    sharesHeld: member.shares_held,
    holdingPaid: readableMoney(member.amount_paid, currency),
    admittedOn: member.admitted_on,
    admittedOnLong: longDate(member.admitted_on),
    paidOnLong: application.paid_at ? longDate(localDate(application.paid_at, deps.config.society.timeZone)) : null,
    reference: application.id,
  };
  if (!admitted) {
    await queueEmail(deps, trx, { to: application.email, template: 'shares/added', vars, personId: application.person_id });
    return;
  }
  const pdf = await certificateFor(deps, member);
  await queueEmail(deps, trx, {
    to: application.email,
    template: 'shares/welcome',
    vars,
    personId: application.person_id,
    attachments: [{ filename: `share-certificate-${member.number}.pdf`, contentType: 'application/pdf', contentBase64: pdf.toString('base64') }],
  });
}

async function markProcessing(deps: AllotDeps, trx: Executor, applicationId: string): Promise<void> {
  const application = await lockedApplication(deps, trx, applicationId);
  // Only forward: a success seen first must not be undone by the older "submitted" news.
  if (application?.status !== 'pending') return;
  await updateApplication(trx, applicationId, { status: 'processing', updated_at: deps.clock.now() });
  deps.logger.info({ applicationId }, 'share payment submitted by Direct Debit: awaiting the money');
}

async function markUnpaid(deps: AllotDeps, trx: Executor, applicationId: string, reason: 'async_payment_failed' | 'expired'): Promise<void> {
  const application = await lockedApplication(deps, trx, applicationId);
  if (application?.status !== 'pending' && application?.status !== 'processing') return;
  await updateApplication(trx, applicationId, { status: reason === 'expired' ? 'expired' : 'failed', updated_at: deps.clock.now() });
  deps.logger.info({ applicationId, reason }, 'share application will not be paid: it no longer counts toward the cap');
}

interface MoneyBack {
  stripeKey: string;
  kind: 'refund' | 'dispute_lost';
  amount: number;
  currency: string;
  at: Date;
  originalPayment: () => Promise<PaidPayment>;
}

/** A refund or a lost dispute: recorded once, then the allotment is reduced to what is still paid for. */
export async function recordMoneyBack(deps: AllotDeps, trx: Executor, applicationId: string, back: MoneyBack): Promise<void> {
  const application = await lockedApplication(deps, trx, applicationId);
  if (!application) return;
  const recorded = await insertPaymentReturn(trx, {
    application_id: applicationId,
    stripe_key: back.stripeKey,
    kind: back.kind,
    amount: back.amount,
    currency: back.currency,
    returned_at: back.at,
    recorded_at: deps.clock.now(),
  });
  if (!recorded) return;
  deps.logger.info({ applicationId, stripeKey: back.stripeKey, amount: back.amount }, 'money given back on a share payment');

  if (application.status === 'pending' || application.status === 'processing' || application.status === 'expired' || application.status === 'failed') {
    // The payment's own event has not reached us yet: book it first; it sees this return.
    await allotOnPayment(deps, trx, applicationId, await back.originalPayment());
    return;
  }
  if (application.status !== 'allotted') return;
  const allotment = await findAllotmentForApplication(trx, applicationId);
  if (allotment) await applyPaymentReturns(deps, trx, application, allotment);
}

/**
 * Reverses the allotment by the shares that the money given back no longer pays for:
 * one reversal per refund or lost dispute, keyed by its Stripe id.
 */
async function applyPaymentReturns(deps: AllotDeps, trx: Executor, application: ShareApplication, allotment: ShareTransaction): Promise<void> {
  const returns = await listPaymentReturns(trx, application.id);
  if (returns.length === 0) return;
  let returned = 0;
  let reversedShares = 0;
  for (const back of returns) {
    returned += back.amount;
    const already = await sumReversalsOf(trx, allotment.id);
    reversedShares = already.shares;
    const member = (await findMember(trx, allotment.member_id, { forUpdate: true }))!;
    const shares = Math.min(
      member.shares_held,
      sharesToReverse({ sharesAllotted: allotment.shares, amountPaid: allotment.amount, totalReturned: returned, sharesAlreadyReversed: already.shares }),
    );
    const amount = Math.min(back.amount, allotment.amount - already.amount, member.amount_paid);
    if (shares <= 0 && amount <= 0) continue;
    const reversal = await appendShareTransaction(deps, trx, systemActor, {
      member_id: member.id,
      kind: 'reversal',
      shares: -shares,
      amount: -amount,
      currency: allotment.currency,
      effective_on: localDate(back.returned_at, deps.config.society.timeZone),
      recorded_at: deps.clock.now(),
      application_id: application.id,
      reverses_transaction_id: allotment.id,
      stripe_key: back.stripe_key,
      note: back.kind === 'refund' ? 'Payment refunded' : 'Payment taken back by a lost dispute',
    });
    if (!reversal) continue;
    reversedShares += shares;
    deps.logger.warn(
      { applicationId: application.id, memberNumber: reversal.member.number, shares, amount, stripeKey: back.stripe_key, ceased: Boolean(reversal.member.ceased_on) },
      'share allotment reversed',
    );
  }
  if (reversedShares >= allotment.shares && application.status !== 'reversed') {
    await updateApplication(trx, application.id, { status: 'reversed', updated_at: deps.clock.now() });
  }
}

async function noteDispute(deps: AllotDeps, trx: Executor, applicationId: string, status: string, disputeId: string): Promise<void> {
  const application = await lockedApplication(deps, trx, applicationId);
  if (!application) return;
  await updateApplication(trx, applicationId, { dispute_status: status, updated_at: deps.clock.now() });
  deps.logger.warn({ applicationId, disputeId, status }, 'dispute on a share payment');
}

// ---- the refund job ---------------------------------------------------------

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
    await queueEmail(deps, trx, {
      to: locked.email,
      template: 'shares/refused',
      personId: locked.person_id,
      vars: {
        name: locked.name,
        shares: locked.shares,
        amount: readableMoney(locked.amount, currency),
        explanation: refusalExplanations[locked.refusal_reason as RefusalReason]?.(locked, readableMoney(deps.config.shares.maxHolding, currency)) ??
          'We could not allot these shares.',
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
    const code = ((err as { cause?: { code?: unknown; raw?: { code?: unknown } } }).cause ?? {}) as { code?: unknown; raw?: { code?: unknown } };
    if (code.code === 'charge_already_refunded' || code.raw?.code === 'charge_already_refunded') {
      deps.logger.warn({ paymentIntentId }, 'share payment was already refunded at Stripe');
      return 'already-refunded';
    }
    throw err;
  }
}
