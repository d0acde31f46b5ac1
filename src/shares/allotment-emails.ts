/**
 * The emails of an allotment: a new member's welcome with their share
 * certificate, or a note that shares were added to a holding. Queued in the
 * allotment's transaction (the outbox sends them after commit). The certificate
 * is queued as its facts as at this allotment, and drawn by the send job: no PDF
 * is rendered while the allotment holds the register's locks.
 */
import type { AppDeps } from '../deps.js';
import type { Executor } from '../db/database.js';
import type { Member, ShareApplication } from '../db/schema.js';
import { queueEmail } from '../email/outbox.service.js';
import { readableMoney } from './applications.service.js';
import { longDate, longDateAt } from '../lib/long-dates.js';
import { certificateAttachment } from './member-certificates.js';
import { humanReference } from '../lib/references.js';

export async function tellMemberOfAllotment(
  deps: Pick<AppDeps, 'config' | 'clock'>,
  trx: Executor,
  application: ShareApplication,
  member: Member,
  admitted: boolean,
): Promise<void> {
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
    paidOnLong: application.paid_at ? longDateAt(application.paid_at, deps.config.society.timeZone) : null,
    reference: humanReference('SHARES', application.id),
  };
  if (!admitted) {
    await queueEmail(deps, trx, { to: application.email, template: 'shares/added', vars, personId: application.person_id });
    return;
  }
  await queueEmail(deps, trx, {
    to: application.email,
    template: 'shares/welcome',
    vars,
    personId: application.person_id,
    attachments: [certificateAttachment(deps, member)],
  });
}
