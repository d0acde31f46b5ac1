/** A member who is a person keeps their register entry in step with their account. */
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import type { Executor } from '../db/database.js';
import type { Member } from '../db/schema.js';
import { findCurrentMemberForPerson, updateMemberDetails } from './register.repository.js';

/**
 * Keeps a person's register entry in step when they change their own name or postal
 * address (PATCH /api/me, the account page): call it in the same transaction. Only a
 * member who is a person: an organisation's entry is not its contact's name or home.
 * Audited as 'member.details_changed'; nothing happens for someone who is not a member.
 */
export async function followPersonDetails(
  deps: Pick<AppDeps, 'clock'>,
  trx: Executor,
  actor: Actor,
  personId: string,
  change: { name?: string | null; postalAddress?: { line1: string; line2?: string | null; town: string; postcode: string; country: string } | null },
): Promise<Member | undefined> {
  const member = await findCurrentMemberForPerson(trx, personId, { forUpdate: true });
  if (!member || member.kind !== 'person') return undefined;
  const patch: Parameters<typeof updateMemberDetails>[2] = {};
  // The register must always hold a name and an address: clearing them on the account leaves the register as it was.
  if (change.name) patch.name = change.name;
  if (change.postalAddress) {
    const a = change.postalAddress;
    Object.assign(patch, { address_line1: a.line1, address_line2: a.line2 || null, town: a.town, postcode: a.postcode, country: a.country });
  }
  const changed = Object.entries(patch).filter(([k, v]) => member[k as keyof Member] !== v);
  if (changed.length === 0) return member;
  const after = await updateMemberDetails(trx, member.id, Object.fromEntries(changed), deps.clock.now());
  await recordAudit(trx, deps.clock, actor, {
    action: 'member.details_changed',
    subjectType: 'member',
    subjectId: String(member.number),
    // Which fields, not their values: the register itself holds the current ones.
    after: { fields: changed.map(([k]) => k).sort() },
  });
  return after;
}
