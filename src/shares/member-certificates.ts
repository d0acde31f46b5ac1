/** Share certificates: a member's holding as at today, as a PDF. */
import type { AppDeps } from '../deps.js';
import type { Member } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { renderCertificate } from './certificate.js';
import { findCurrentMemberForPerson } from './register.repository.js';
import { localDate } from './share-rules.js';
import type { SharesErrorCode } from './shares.errors.js';

const notAMember = () =>
  new AppError<SharesErrorCode>({ code: 'not_a_member', status: 404, message: 'You are not a member of the society (yet): there are no shares in your name.' });

/** The share certificate of a member as at today. */
export async function certificateFor(deps: Pick<AppDeps, 'config' | 'clock'>, member: Member): Promise<Buffer> {
  const { config } = deps;
  const now = deps.clock.now();
  return renderCertificate({
    society: { name: config.society.name, registrationNumber: config.society.registrationNumber, address: config.society.address },
    member: { name: member.name, number: member.number, kind: member.kind, admittedOn: member.admitted_on },
    sharesHeld: member.shares_held,
    amountPaid: member.amount_paid,
    pricePerShare: config.shares.price,
    currency: member.currency.trim(),
    issuedOn: localDate(now, config.society.timeZone),
    createdAt: now,
  });
}

/** The signed-in person's certificate; 404 not_a_member when they hold no shares. */
export async function certificateForPerson(deps: Pick<AppDeps, 'config' | 'clock' | 'db'>, personId: string): Promise<{ filename: string; pdf: Buffer }> {
  const member = await findCurrentMemberForPerson(deps.db, personId);
  if (!member || member.shares_held === 0) throw notAMember();
  return { filename: `share-certificate-${member.number}.pdf`, pdf: await certificateFor(deps, member) };
}
