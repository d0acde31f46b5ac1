/**
 * Applying for shares: the society's limits (minimum shares, minimum age, the
 * maximum holding) are checked in the transaction that creates the application,
 * under a per-person lock, and only then is the applicant sent to Stripe Checkout.
 *
 * No oracle (SPEC 1 "Privacy", "Shares"): anyone can type any address, so only
 * the applicant signed in as the address gets the full cap check (holding plus
 * their own applications awaiting payment, with the figures), and only their
 * applications hold room under the cap until paid. For anyone else the answer is
 * the same whatever the address holds or how it joined: the application's own
 * amount is checked against the cap, nothing about the address is read, and the
 * holding is checked when the payment arrives (share-refusals.ts), which refunds
 * an over-cap payment in full and tells the address why.
 */
import type { AppDeps } from '../deps.js';
import type { Executor } from '../db/database.js';
import { AppError } from '../lib/errors.js';
import { formatMoney } from '../lib/money.js';
import { createCheckout } from '../payments/checkout.service.js';
import { erasedEmailFor, findOrCreatePersonByEmail } from '../members/people.service.js';
import {
  AWAITING_PAYMENT,
  eraseApplicantDetails,
  expirePendingCreatedBefore,
  findApplication,
  insertApplication,
  listApplicationsForPerson,
  lockPersonHolding,
  sumAwaitingPayment,
  updateApplication,
} from './applications.repository.js';
import { findCurrentMemberForPerson } from './register.repository.js';
import { checkCap, hasReachedAge, isExemptFromCap, localDate } from './share-rules.js';
import type { SharesErrorCode } from './shares.errors.js';
import type { ShareApplicationForm, ShareApplicationRequest } from './shares.schemas.js';

type SharesDeps = Pick<AppDeps, 'config' | 'clock' | 'db' | 'logger'>;

/** Stripe takes at most 99,999,999 minor units in one payment. */
export const MAX_ONLINE_PAYMENT = 99_999_999;

/** Pending applications older than this stop counting: every Checkout Session has expired by then. */
export const STALE_APPLICATION_MS = 25 * 60 * 60 * 1000;

const shareError = (code: SharesErrorCode, message: string, details?: unknown) => new AppError<SharesErrorCode>({ code, status: 422, message, details });

/** Money as a reader reads it: whole pounds when it is whole pounds. */
export function readableMoney(minor: number, currency: string): string {
  return formatMoney(minor, currency, { wholeUnits: minor % 100 === 0 });
}

export interface ApplicationContext {
  /** The signed-in person making the request, if any: only they are shown their own holding. */
  viewerPersonId: string | null;
}

/**
 * Creates the application and its Checkout Session; returns where to pay.
 * 422 for each broken rule; 502 (and the application marked failed) when Stripe does not answer.
 */
export async function applyForShares(
  deps: AppDeps,
  context: ApplicationContext,
  request: ShareApplicationRequest,
): Promise<{ id: string; checkoutUrl: string }> {
  const { config } = deps;
  const price = config.shares.price;
  const currency = config.society.currency;
  const amount = request.shares * price;
  checkApplicationRules(deps, request);

  const application = await deps.db.transaction().execute(async (trx) => {
    const person = await findOrCreatePersonByEmail(trx, request.applicant.email, request.applicant.name);
    await lockPersonHolding(trx, person.id);
    const owner = context.viewerPersonId !== null && context.viewerPersonId === person.id;
    const member = owner ? await checkOwnersApplication(deps, trx, person.id, request, amount) : undefined;
    if (!owner) checkOwnAmount(deps, request, amount);
    const now = deps.clock.now();
    const { applicant } = request;
    return insertApplication(trx, {
      person_id: person.id,
      member_id: member?.id ?? null,
      applicant_kind: applicant.kind,
      name: applicant.name,
      email: applicant.email.trim().toLowerCase(),
      address_line1: applicant.address.line1,
      address_line2: applicant.address.line2,
      town: applicant.address.town,
      postcode: applicant.address.postcode,
      country: applicant.address.country,
      date_of_birth: applicant.kind === 'person' ? applicant.dateOfBirth : null,
      registered_society: applicant.kind === 'organisation' && applicant.registeredSociety,
      shares: request.shares,
      price_per_share: price,
      amount,
      currency,
      rules_accepted_at: now,
      rules_url: config.society.rulesUrl,
      created_at: now,
      updated_at: now,
      holds_room: owner,
    });
  });
  deps.logger.info({ applicationId: application.id, shares: application.shares, kind: application.applicant_kind }, 'share application created');

  try {
    const checkout = await createCheckout(deps, {
      purpose: 'share_application',
      recordId: application.id,
      mode: 'payment',
      amount,
      currency,
      lineItems: [{ name: `Shares in ${config.society.name} (${readableMoney(price, currency)} each)`, quantity: request.shares, unitAmount: price }],
      customerEmail: application.email,
      submitType: 'pay',
      // Cancelling on the payment page comes back to this form, filled in.
      cancelPath: `/shares/resume/${application.id}`,
    });
    return { id: application.id, checkoutUrl: checkout.url };
  } catch (err) {
    // An application nobody can pay must not hold room under the cap.
    await abandonApplication(deps, application.id);
    throw err;
  }
}

/**
 * The signed-in owner of the address: the full check before payment, with the figures.
 * Counts the holding and their own applications awaiting payment (never a stranger's).
 */
async function checkOwnersApplication(deps: SharesDeps, trx: Executor, personId: string, request: ShareApplicationRequest, amount: number) {
  const { config } = deps;
  const member = await findCurrentMemberForPerson(trx, personId);
  if (member && member.kind !== request.applicant.kind) {
    throw shareError(
      'applicant_mismatch',
      member.kind === 'person'
        ? 'You joined as a person. An organisation needs an email address of its own to join.'
        : 'This address belongs to your member organisation. To join as a person, please use your own email address.',
    );
  }
  if (!isExemptFromCap(member, request.applicant)) {
    const held = member?.amount_paid ?? 0;
    const pending = await sumAwaitingPayment(trx, personId);
    const verdict = checkCap({ held, pending, requested: amount, maxHolding: config.shares.maxHolding, pricePerShare: config.shares.price });
    if (!verdict.allowed) {
      throw capExceeded({ held, pending, requested: amount, roomShares: verdict.roomShares, currency: config.society.currency, maxHolding: config.shares.maxHolding });
    }
  }
  return member;
}

/**
 * Anyone not signed in as the address: the application's own amount against the cap, and
 * nothing else, so the answer is the same for every address (the holding waits for the payment).
 */
function checkOwnAmount(deps: SharesDeps, request: ShareApplicationRequest, amount: number): void {
  const { shares: rules, society } = deps.config;
  // The same rule as for a holder, standing on an empty holding.
  const verdict = checkCap({ held: 0, pending: 0, requested: amount, maxHolding: rules.maxHolding, pricePerShare: rules.price });
  if (isExemptFromCap(undefined, request.applicant) || verdict.allowed) return;
  const maxShares = verdict.roomShares;
  throw shareError(
    'holding_cap_exceeded',
    `No one may hold more than ${readableMoney(rules.maxHolding, society.currency)} in shares: please apply for at most ${maxShares} shares. ` +
      'If you already hold shares, sign in to see how many more you can apply for.',
    { maxHolding: rules.maxHolding, maxShares },
  );
}

function checkApplicationRules(deps: SharesDeps, request: ShareApplicationRequest): void {
  const { shares: rules, society } = deps.config;
  if (!request.acceptRules) {
    throw shareError('rules_not_accepted', "To become a member you need to accept the society's rules.", { rulesUrl: society.rulesUrl });
  }
  if (request.shares < rules.minShares) {
    throw shareError(
      'below_minimum_shares',
      `Please apply for at least ${rules.minShares} shares (${readableMoney(rules.minShares * rules.price, society.currency)}).`,
      { minShares: rules.minShares },
    );
  }
  if (request.applicant.kind === 'person') {
    const today = localDate(deps.clock.now(), society.timeZone);
    if (!hasReachedAge(request.applicant.dateOfBirth, today, rules.minAge)) {
      throw shareError('under_minimum_age', `You need to be at least ${rules.minAge} to become a member.`, { minAge: rules.minAge });
    }
  }
  const amount = request.shares * rules.price;
  if (amount > MAX_ONLINE_PAYMENT) {
    throw shareError(
      'amount_too_large',
      `Online payments are limited to ${readableMoney(MAX_ONLINE_PAYMENT, society.currency)}. For a larger investment please contact the society.`,
      { maxShares: Math.floor(MAX_ONLINE_PAYMENT / rules.price) },
    );
  }
}

/** The signed-in owner's refusal: their own figures. */
function capExceeded(p: { held: number; pending: number; requested: number; roomShares: number; currency: string; maxHolding: number }): AppError<SharesErrorCode> {
  const max = readableMoney(p.maxHolding, p.currency);
  const holds = `you hold ${readableMoney(p.held, p.currency)}`;
  const awaiting = p.pending > 0 ? ` and have applied for ${readableMoney(p.pending, p.currency)} more that awaits payment` : '';
  const room = p.roomShares > 0 ? `, so you can apply for at most ${p.roomShares} more shares` : '';
  return shareError('holding_cap_exceeded', `Sorry: ${holds}${awaiting}; the most anyone may hold is ${max}${room}.`, {
    maxHolding: p.maxHolding,
    held: p.held,
    pending: p.pending,
    requested: p.requested,
    maxShares: p.roomShares,
  });
}

async function abandonApplication(deps: SharesDeps, applicationId: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const application = await findApplication(trx, applicationId, { forUpdate: true });
    if (application?.status === 'pending') {
      await updateApplication(trx, applicationId, { status: 'failed', updated_at: deps.clock.now() });
    }
  });
}

/** The scheduled sweep: applications whose checkout can no longer be paid stop holding room under the cap. */
/**
 * The share form's values for an application whose payment was cancelled (Checkout's cancel URL
 * names its unguessable id). Nothing for an unknown id, an erased one, or one already paid.
 */
export async function cancelledApplicationForm(deps: Pick<AppDeps, 'db'>, id: string): Promise<ShareApplicationForm | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const application = await findApplication(deps.db, id);
  if (!application || application.erased_at || !['pending', 'expired', 'failed'].includes(application.status)) return undefined;
  return {
    kind: application.applicant_kind,
    shares: String(application.shares),
    name: application.name,
    email: application.email,
    line1: application.address_line1,
    line2: application.address_line2 ?? '',
    town: application.town,
    postcode: application.postcode,
    country: application.country,
    dateOfBirth: application.date_of_birth ?? '',
    registeredSociety: application.registered_society ? 'true' : undefined,
    acceptRules: 'true',
  };
}

export async function expireStaleApplications(deps: SharesDeps): Promise<number> {
  const now = deps.clock.now();
  const expired = await expirePendingCreatedBefore(deps.db, new Date(now.getTime() - STALE_APPLICATION_MS), now);
  if (expired.length > 0) deps.logger.info({ count: expired.length }, 'stale share applications expired');
  return expired.length;
}

export interface ApplicationsErasure {
  /** Applications that never led to membership: name, address, email and date of birth erased. */
  withoutMembership: number;
  /** Applications that admitted the person or added to their holding: date of birth and email erased. */
  withMembership: number;
}

/**
 * A person's erasure request, for their share applications: call it inside the erasure's
 * transaction. Refused (409 application_awaiting_payment) while the money of an application the
 * person made signed in may still arrive, since an allotment needs the applicant's name and address.
 * The register of members and share transactions are never touched. Not audited here: the
 * counts go into the erasure's own audit entry ('person.erased'), one entry for one request.
 */
export async function eraseApplicationsOfPerson(deps: Pick<AppDeps, 'clock'>, trx: Executor, personId: string): Promise<ApplicationsErasure> {
  // The lock new applications and allotments take: none can slip in between the check and the erasure.
  await lockPersonHolding(trx, personId);
  // Only the person's own (signed-in) applications: a stranger's application in their address
  // must not hold their erasure back. Its payment, should it come, meets an erased applicant
  // and is refunded (share-refusals.ts).
  const awaiting = (await listApplicationsForPerson(trx, personId, AWAITING_PAYMENT)).filter((a) => a.holds_room);
  if (awaiting.length > 0) {
    throw new AppError<SharesErrorCode>({
      code: 'application_awaiting_payment',
      status: 409,
      message:
        'You have a share application whose payment is still under way. Please ask again once it has been paid or has expired ' +
        '(an unpaid checkout expires within a day; a Direct Debit takes a few working days).',
      details: { applications: awaiting.map((a) => ({ id: a.id, status: a.status })) },
    });
  }
  return eraseApplicantDetails(trx, personId, erasedEmailFor(personId), deps.clock.now());
}
