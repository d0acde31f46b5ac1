/** Members and withdrawals as the API shows them: rows become views here only. */
import type { Member } from '../db/schema.js';
import type { WithdrawalRow } from './withdrawals.repository.js';

export interface MemberView {
  number: number;
  kind: 'person' | 'organisation';
  name: string;
  address: { line1: string; line2: string | null; town: string; postcode: string; country: string };
  email: string | null;
  registeredSociety: boolean;
  admittedAt: string;
  ceasedAt: string | null;
  sharesHeld: number;
  amountPaid: number;
  currency: string;
}

export function memberView(m: Member): MemberView {
  return {
    number: m.number,
    kind: m.kind,
    name: m.name,
    address: { line1: m.address_line1, line2: m.address_line2, town: m.town, postcode: m.postcode, country: m.country },
    email: m.email,
    registeredSociety: m.registered_society,
    admittedAt: m.admitted_on,
    ceasedAt: m.ceased_on,
    sharesHeld: m.shares_held,
    amountPaid: m.amount_paid,
    currency: m.currency.trim(),
  };
}

export interface WithdrawalView {
  id: string;
  memberNumber: number;
  memberName: string;
  shares: number;
  status: WithdrawalRow['status'];
  requestedAt: string;
  noticeEndsOn: string;
  decidedAt: string | null;
  note: string | null;
  paidAt: string | null;
  amount: number | null;
}

export function withdrawalView(w: WithdrawalRow): WithdrawalView {
  return {
    id: w.id,
    memberNumber: w.member_number,
    memberName: w.member_name,
    shares: w.shares,
    status: w.status,
    requestedAt: w.requested_at.toISOString(),
    noticeEndsOn: w.notice_ends_on,
    decidedAt: w.decided_at?.toISOString() ?? null,
    note: w.note,
    paidAt: w.paid_at?.toISOString() ?? null,
    amount: w.amount,
  };
}
