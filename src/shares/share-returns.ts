/** The thank-you page's account of a share application: shares, amount, the member number once allotted, where the email went. */
import type { AppDeps } from '../deps.js';
import { humanReference } from '../lib/references.js';
import { maskEmail, type CheckoutReturnDescriber } from '../payments/checkout-returns.js';
import { readableMoney } from './applications.service.js';
import { findApplication } from './applications.repository.js';
import { findMember } from './register.repository.js';

export function shareApplicationReturn(deps: AppDeps): CheckoutReturnDescriber {
  return async (applicationId) => {
    const application = await findApplication(deps.db, applicationId);
    if (!application || application.erased_at) return undefined;
    const member = application.status === 'allotted' && application.member_id ? await findMember(deps.db, application.member_id) : undefined;
    return {
      kind: 'shares',
      formPath: '/shares',
      shares: application.shares,
      amount: readableMoney(application.amount, application.currency.trim()),
      status: application.status,
      memberNumber: member?.number ?? null,
      emailTo: maskEmail(application.email),
      reference: humanReference('SHARES', application.id),
    };
  };
}
