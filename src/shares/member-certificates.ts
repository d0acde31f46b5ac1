/**
 * Share certificates: a member's holding as at a moment, as a PDF. The member's own
 * download draws it at once (outside any transaction); the welcome email queues its
 * facts, and the send job draws it (email/attachments.ts), so the allotment's
 * transaction never renders a PDF while it holds the register's locks.
 */
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import type { EmailAttachmentToDraw, Member } from '../db/schema.js';
import { attachmentToDraw, type AttachmentKind } from '../email/attachments.js';
import { AppError } from '../lib/errors.js';
import { renderCertificate, type CertificateContent } from './certificate.js';
import { findCurrentMemberForPerson } from './register.repository.js';
import { localDate } from './share-rules.js';
import type { SharesErrorCode } from './shares.errors.js';

const notAMember = () =>
  new AppError<SharesErrorCode>({ code: 'not_a_member', status: 404, message: 'You are not a member of the society (yet): there are no shares in your name.' });

/** What a member's certificate says as at now: every fact printed on it, the society's included. */
export function certificateFacts(deps: Pick<AppDeps, 'config' | 'clock'>, member: Member): CertificateContent {
  const { config } = deps;
  const now = deps.clock.now();
  return {
    society: { name: config.society.name, registrationNumber: config.society.registrationNumber, address: config.society.address },
    member: { name: member.name, number: member.number, kind: member.kind, admittedOn: member.admitted_on },
    sharesHeld: member.shares_held,
    amountPaid: member.amount_paid,
    pricePerShare: config.shares.price,
    currency: member.currency.trim(),
    issuedOn: localDate(now, config.society.timeZone),
    createdAt: now.toISOString(),
  };
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const whole = z.number().int().nonnegative();

/** The certificate as an email attachment kind: its facts as stored in the queued email. */
export const shareCertificate: AttachmentKind<CertificateContent> = {
  name: 'share-certificate',
  contentType: 'application/pdf',
  facts: z.object({
    society: z.object({ name: z.string(), registrationNumber: z.string(), address: z.string() }),
    member: z.object({ name: z.string(), number: whole, kind: z.enum(['person', 'organisation']), admittedOn: isoDate }),
    sharesHeld: whole,
    amountPaid: whole,
    pricePerShare: whole,
    currency: z.string(),
    issuedOn: isoDate,
    createdAt: z.iso.datetime(),
  }),
  draw: renderCertificate,
};

export function certificateFilename(member: Pick<Member, 'number'>): string {
  return `share-certificate-${member.number}.pdf`;
}

/** The member's certificate as at now, to attach to an email: its facts now, drawn when the email is sent. */
export function certificateAttachment(deps: Pick<AppDeps, 'config' | 'clock'>, member: Member): EmailAttachmentToDraw {
  return attachmentToDraw(shareCertificate, certificateFilename(member), certificateFacts(deps, member));
}

/** The signed-in person's certificate as at now; 404 not_a_member when they hold no shares. */
export async function certificateForPerson(deps: Pick<AppDeps, 'config' | 'clock' | 'db'>, personId: string): Promise<{ filename: string; pdf: Buffer }> {
  const member = await findCurrentMemberForPerson(deps.db, personId);
  if (!member || member.shares_held === 0) throw notAMember();
  return { filename: certificateFilename(member), pdf: await renderCertificate(certificateFacts(deps, member)) };
}
