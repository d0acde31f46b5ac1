/**
 * The /shares page: the society's terms (price, limits, rules) and the
 * application form for a person or an organisation. A submitted form goes
 * through the same applyForShares as the JSON API; problems come back beside
 * the fields, with everything the reader typed still there.
 */
import type { Response } from 'express';
import type { AppDeps } from '../deps.js';
import { AppError } from '../lib/errors.js';
import { formErrorSummary, renderPage } from '../lib/pages.js';
import { applyForShares, readableMoney, type ApplicationContext } from './applications.service.js';
import { checkCap } from './share-rules.js';
import type { SharesErrorCode } from './shares.errors.js';
import { shareApplicationRequest, type ShareApplicationForm } from './shares.schemas.js';

export type SharesFormField = 'kind' | 'shares' | 'name' | 'email' | 'line1' | 'line2' | 'town' | 'postcode' | 'country' | 'dateOfBirth' | 'acceptRules' | 'form';

export interface SharesPageOptions {
  values?: Partial<ShareApplicationForm>;
  errors?: Partial<Record<SharesFormField, string>>;
  status?: number;
  csrfToken?: string;
  /** 'cancelled': back from the payment page without paying (the form filled in as it was). */
  notice?: 'cancelled';
}

const fieldOfCode: Partial<Record<SharesErrorCode, SharesFormField>> = {
  holding_cap_exceeded: 'shares',
  below_minimum_shares: 'shares',
  amount_too_large: 'shares',
  under_minimum_age: 'dateOfBirth',
  rules_not_accepted: 'acceptRules',
  applicant_mismatch: 'email',
};

const friendlyFieldMessages: Partial<Record<SharesFormField, string>> = {
  shares: 'Please give a whole number of shares, such as 100.',
  name: 'Please give the name to enter in the register.',
  email: 'Please give an email address we can send notices and your certificate to.',
  line1: 'Please give the first line of the postal address.',
  town: 'Please give the town.',
  postcode: 'Please give the postcode.',
  country: 'Please give the country.',
  dateOfBirth: 'Please give a date of birth as day, month and year, such as 23 4 1990.',
  acceptRules: "Please tick the box to accept the society's rules.",
};

export async function renderSharesPage(deps: AppDeps, res: Response, options: SharesPageOptions = {}): Promise<void> {
  const { config } = deps;
  const { shares, society } = config;
  const errors = options.errors ?? {};
  const values = { kind: 'person', country: 'United Kingdom', ...options.values };
  const dob = dateOfBirthBoxes(values);
  const errorList = formErrorSummary(errors, { form: 'shares' });
  res.setHeader('Cache-Control', 'no-store');
  await renderPage(
    deps,
    res,
    'shares',
    {
      title: 'Buy shares: become an owner',
      values,
      errors,
      errorList,
      notice: options.notice,
      dob,
      csrfToken: options.csrfToken ?? '',
      terms: {
        price: readableMoney(shares.price, society.currency),
        minShares: shares.minShares,
        minimum: readableMoney(shares.minShares * shares.price, society.currency),
        maxHolding: readableMoney(shares.maxHolding, society.currency),
        // The cap's own arithmetic, on an empty holding: the most one newcomer may hold.
        maxShares: checkCap({ held: 0, pending: 0, requested: 0, maxHolding: shares.maxHolding, pricePerShare: shares.price }).roomShares.toLocaleString('en-GB'),
        minAge: shares.minAge,
        noticeDays: shares.withdrawalNoticeDays,
        rulesUrl: society.rulesUrl,
      },
    },
    options.status ?? 200,
  );
}

/** The day, month and year boxes: as typed, or from a YYYY-MM-DD date of birth (an application resumed). */
function dateOfBirthBoxes(values: Partial<ShareApplicationForm>): { day: string; month: string; year: string } {
  if (values.dobDay !== undefined || values.dobMonth !== undefined || values.dobYear !== undefined) {
    return { day: values.dobDay ?? '', month: values.dobMonth ?? '', year: values.dobYear ?? '' };
  }
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(values.dateOfBirth ?? '');
  return iso ? { day: String(Number(iso[3])), month: String(Number(iso[2])), year: iso[1]! } : { day: '', month: '', year: '' };
}

/** The three boxes as YYYY-MM-DD (left for the schema to judge when incomplete or not a date). */
function dateOfBirthFrom(form: ShareApplicationForm): string {
  const [day, month, year] = [form.dobDay, form.dobMonth, form.dobYear].map((v) => (v ?? '').trim());
  if (!day && !month && !year) return form.dateOfBirth.trim();
  if (!/^\d{1,2}$/.test(day!) || !/^\d{1,2}$/.test(month!) || !/^\d{4}$/.test(year!)) return `${year}-${month}-${day}`;
  return `${year}-${month!.padStart(2, '0')}-${day!.padStart(2, '0')}`;
}

export type SharesFormResult =
  | { ok: true; checkoutUrl: string }
  | { ok: false; status: number; errors: Partial<Record<SharesFormField, string>>; values: ShareApplicationForm };

/** Turns the posted form into an application, or into the problems to show beside its fields. */
export async function submitSharesForm(deps: AppDeps, context: ApplicationContext, form: ShareApplicationForm): Promise<SharesFormResult> {
  const errors: Partial<Record<SharesFormField, string>> = {};
  const isOrganisation = form.kind === 'organisation';
  const sharesText = form.shares.trim().replace(/,/g, '');
  const shares = /^\d{1,10}$/.test(sharesText) ? Number(sharesText) : undefined;
  if (shares === undefined) errors.shares = friendlyFieldMessages.shares;
  const truthy = (v: string | undefined) => ['on', 'true', 'yes', '1'].includes((v ?? '').toLowerCase());

  const candidate = {
    shares: shares ?? 1,
    applicant: {
      kind: isOrganisation ? 'organisation' : 'person',
      name: form.name,
      email: form.email.trim(),
      address: { line1: form.line1, line2: form.line2, town: form.town, postcode: form.postcode, country: form.country },
      ...(isOrganisation ? { registeredSociety: truthy(form.registeredSociety) } : { dateOfBirth: dateOfBirthFrom(form) }),
    },
    acceptRules: truthy(form.acceptRules),
  };
  const parsed = shareApplicationRequest.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String);
      const field = (path[0] === 'applicant' ? (path[1] === 'address' ? path[2] : path[1]) : path[0]) as SharesFormField | undefined;
      const key = field && field in friendlyFieldMessages ? field : 'form';
      errors[key] ??= friendlyFieldMessages[key] ?? issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, status: 422, errors, values: form };

  try {
    const { checkoutUrl } = await applyForShares(deps, context, parsed.data);
    return { ok: true, checkoutUrl };
  } catch (err) {
    if (err instanceof AppError && (err.status === 422 || err.status === 502 || err.status === 409)) {
      const field = fieldOfCode[err.code as SharesErrorCode] ?? 'form';
      return { ok: false, status: err.status, errors: { [field]: err.message }, values: form };
    }
    throw err;
  }
}
