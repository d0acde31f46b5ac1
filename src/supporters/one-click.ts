/**
 * The one-click page from supporter emails (/supporter/manage?token=...): GET shows
 * the subscription with its buttons and changes nothing; POST acts, once per link.
 * A tampered or expired link is refused (400), a link that has already acted too (409).
 */
import type { AppDeps } from '../deps.js';
import { systemActor } from '../admin/audit.service.js';
import { AppError } from '../lib/errors.js';
import { parseMajorUnits } from '../lib/money.js';
import { changeSupporterById } from './supporter-changes.js';
import { verifyManageToken } from './supporter-links.js';
import { supporterError } from './supporters.errors.js';
import { findSupporter, signedLinkUsed, unuseSignedLink, useSignedLink } from './supporters.repository.js';
import type { SupporterChangeRequest } from './supporters.schemas.js';
import { supporterView, type SupporterView } from './supporters.views.js';

type LinkDeps = Pick<AppDeps, 'config' | 'clock' | 'logger' | 'db' | 'stripe'>;

export type ManageAction = 'cancel' | 'undo_cancel' | 'pause' | 'resume' | 'change';

/** What the page shows for a token; throws the refusal for a bad, expired or used link. */
export async function openManageLink(deps: LinkDeps, token: string): Promise<{ supporter: SupporterView; email: string }> {
  const { supporterId, jti } = await checkToken(deps, token);
  if (await signedLinkUsed(deps.db, jti)) throw linkUsed();
  const supporter = await findSupporter(deps.db, supporterId);
  if (!supporter) throw supporterError('link_invalid', 400, 'This link does not work.');
  return { supporter: supporterView(supporter), email: supporter.email };
}

/** The page's POST: one change, through Stripe; the link is used up by it. */
export async function actOnManageLink(deps: LinkDeps, input: { token: string; action?: ManageAction | undefined; amount?: string | undefined; interval?: string | undefined }): Promise<SupporterView> {
  const { supporterId, jti } = await checkToken(deps, input.token);
  const change = changeFromForm(input);
  if (!(await useSignedLink(deps.db, { jti, subjectId: supporterId, action: input.action ?? '', usedAt: deps.clock.now() }))) throw linkUsed();
  try {
    return await changeSupporterById(deps, { ...systemActor, email: 'one-click link' }, supporterId, change);
  } catch (err) {
    // Nothing changed (Stripe did not answer, or the change was refused): the link still works.
    await unuseSignedLink(deps.db, jti);
    throw err;
  }
}

/** The change a form (one-click page, /account) asks for. */
export function changeFromForm(input: { action?: ManageAction | undefined; amount?: string | undefined; interval?: string | undefined }): SupporterChangeRequest {
  switch (input.action) {
    case 'cancel':
      return { cancel: true };
    case 'undo_cancel':
      return { cancel: false };
    case 'pause':
      return { pause: true };
    case 'resume':
      return { pause: false };
    case 'change': {
      const amount = parseMajorUnits(input.amount ?? '');
      if (amount === null || amount <= 0) throw supporterError('amount_below_minimum', 422, 'Please give an amount in pounds, such as 5 or 7.50.', { field: 'amount' });
      const interval = input.interval === 'month' || input.interval === 'year' ? input.interval : undefined;
      return interval ? { amount, interval } : { amount };
    }
    default:
      throw new AppError({ code: 'invalid_request', status: 400, message: 'Choose what to do.' });
  }
}

async function checkToken(deps: LinkDeps, token: string): Promise<{ supporterId: string; jti: string }> {
  const check = await verifyManageToken(deps, token);
  if (check.ok) return check;
  if (check.reason === 'expired') throw supporterError('link_expired', 400, 'This link has expired (links work for 30 days). Every email about your support has a fresh one, or sign in to your account.');
  throw supporterError('link_invalid', 400, 'This link does not work. Please use the link in your latest email, or sign in to your account.');
}

const linkUsed = () => supporterError('link_used', 409, 'This link has already been used. Every email about your support has a fresh one, or sign in to your account.');
