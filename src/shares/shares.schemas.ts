/** Request and response shapes of the shares component (validated with zod, described in OpenAPI). */
import { z } from 'zod';
import { isCalendarDate } from './share-rules.js';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const postalAddress = z
  .object({
    line1: text(200),
    line2: z
      .string()
      .trim()
      .max(200)
      .nullish()
      .transform((s) => (s ? s : null)),
    town: text(100),
    postcode: text(20),
    country: text(100),
  })
  .meta({ id: 'ApplicantAddress', description: 'The address entered in the register of members' });

const calendarDate = z
  .string()
  .refine(isCalendarDate, 'must be a date written YYYY-MM-DD')
  .refine((d) => d >= '1900-01-01', 'must be a date after 1900');

const applicantCommon = {
  name: text(200).meta({ description: "The person's or the organisation's name, as it will appear in the register" }),
  email: z.email('must be an email address').max(254).meta({ description: 'Where notices, the receipt and the certificate go' }),
  address: postalAddress,
};

const personApplicant = z.object({
  kind: z.literal('person'),
  ...applicantCommon,
  dateOfBirth: calendarDate.meta({ description: 'YYYY-MM-DD; the applicant must have reached the minimum age (default 16)' }),
  registeredSociety: z.literal(false, { error: 'only an organisation can be a registered society' }).optional(),
});

const organisationApplicant = z.object({
  kind: z.literal('organisation'),
  ...applicantCommon,
  registeredSociety: z
    .boolean()
    .optional()
    .default(false)
    .meta({ description: 'A registered society (co-operative or community benefit society): exempt from the maximum holding' }),
});

export const shareApplicationRequest = z
  .object({
    shares: z
      .number({ error: 'must be a whole number of shares' })
      .int('must be a whole number of shares')
      // Zero is a well-formed count below the society's minimum: 422 below_minimum_shares, not 400.
      .nonnegative('must not be negative')
      .max(1_000_000_000, 'is too many')
      .meta({ description: 'How many shares; at least the configured minimum (default 1)', example: 250 }),
    applicant: z.discriminatedUnion('kind', [personApplicant, organisationApplicant]),
    acceptRules: z.boolean({ error: 'must be true or false' }).meta({ description: "Must be true: the applicant accepts the society's rules" }),
  })
  .meta({ id: 'ShareApplicationRequest', description: 'An application for shares, paid through Stripe Checkout' });

export type ShareApplicationRequest = z.infer<typeof shareApplicationRequest>;
export type Applicant = ShareApplicationRequest['applicant'];

export const shareApplicationCreated = z
  .object({
    id: z.uuid(),
    checkoutUrl: z.url().meta({ description: 'Send the applicant here to pay (Stripe Checkout, or the sandbox)' }),
  })
  .meta({ id: 'ShareApplicationCreated' });

/** The /shares form as a browser posts it: every field a string. */
export const shareApplicationForm = z.object({
  kind: z.string().max(20).optional().default('person'),
  shares: z.string().max(40).optional().default(''),
  name: z.string().max(300).optional().default(''),
  email: z.string().max(300).optional().default(''),
  line1: z.string().max(300).optional().default(''),
  line2: z.string().max(300).optional().default(''),
  town: z.string().max(300).optional().default(''),
  postcode: z.string().max(300).optional().default(''),
  country: z.string().max(300).optional().default(''),
  dateOfBirth: z.string().max(40).optional().default(''),
  /** The date of birth as the page asks for it: day, month and year boxes (dateOfBirth, YYYY-MM-DD, is read too). */
  dobDay: z.string().max(10).optional(),
  dobMonth: z.string().max(10).optional(),
  dobYear: z.string().max(10).optional(),
  registeredSociety: z.string().max(10).optional(),
  acceptRules: z.string().max(10).optional(),
});

export type ShareApplicationForm = z.infer<typeof shareApplicationForm>;

export const withdrawalRequest = z
  .object({
    shares: z
      .number({ error: 'must be a whole number of shares' })
      .int('must be a whole number of shares')
      .positive('must be at least 1')
      .max(1_000_000_000, 'is too many'),
  })
  .meta({ id: 'ShareWithdrawalRequest' });

export const withdrawalDecision = z
  .object({ note: z.string().trim().max(1000).optional() })
  .meta({ id: 'ShareWithdrawalDecision', description: 'An optional note for the record (a board minute, a payment reference)' });

export const withdrawalAction = z.enum(['approve', 'reject', 'defer', 'paid']);
export type WithdrawalAction = z.infer<typeof withdrawalAction>;

export const withdrawalListQuery = z.object({
  status: z.enum(['requested', 'approved', 'rejected', 'deferred', 'paid']).optional(),
});

export const memberSearchQuery = z.object({
  query: z.string().max(200).optional(),
  page: z.coerce.number().int().min(1).max(100_000).optional().default(1),
  pageSize: z.coerce.number().int().min(1).max(200).optional().default(50),
});

export const idParam = z.object({ id: z.uuid('must be a withdrawal id') });

const transactionView = z.object({
  id: z.number().int(),
  memberNumber: z.number().int(),
  kind: z.enum(['allotment', 'withdrawal', 'transfer_on_death', 'forfeit', 'reversal']),
  shares: z.number().int().meta({ description: 'Signed: positive adds to the holding' }),
  amount: z.number().int().meta({ description: 'Signed, pence' }),
  currency: z.string(),
  effectiveOn: z.string().meta({ description: 'YYYY-MM-DD' }),
});

export const memberView = z
  .object({
    number: z.number().int(),
    kind: z.enum(['person', 'organisation']),
    name: z.string(),
    address: z.object({ line1: z.string(), line2: z.string().nullable(), town: z.string(), postcode: z.string(), country: z.string() }),
    email: z.string().nullable(),
    registeredSociety: z.boolean(),
    admittedAt: z.string().meta({ description: 'Date admitted, YYYY-MM-DD' }),
    ceasedAt: z.string().nullable().meta({ description: 'Date ceased, YYYY-MM-DD' }),
    sharesHeld: z.number().int(),
    amountPaid: z.number().int(),
    currency: z.string(),
  })
  .meta({ id: 'Member' });

export const withdrawalView = z
  .object({
    id: z.uuid(),
    memberNumber: z.number().int(),
    memberName: z.string(),
    shares: z.number().int(),
    status: z.enum(['requested', 'approved', 'rejected', 'deferred', 'paid']),
    requestedAt: z.string(),
    noticeEndsOn: z.string().meta({ description: 'The end of the notice period, YYYY-MM-DD' }),
    decidedAt: z.string().nullable(),
    note: z.string().nullable(),
    paidAt: z.string().nullable(),
    amount: z.number().int().nullable(),
  })
  .meta({ id: 'ShareWithdrawal' });

export const withdrawalAccepted = withdrawalView
  .extend({
    noticeDays: z.number().int(),
    message: z.string(),
  })
  .meta({ id: 'ShareWithdrawalAccepted' });

export const memberSharesView = z
  .object({
    member: memberView.nullable(),
    shares: z.object({
      held: z.number().int(),
      paid: z.number().int(),
      currency: z.string(),
      transactions: z.array(transactionView),
      withdrawals: z.array(withdrawalView),
      withdrawalNoticeDays: z.number().int(),
    }),
  })
  .meta({ id: 'MemberShares' });

export const memberSearchResult = z
  .object({
    members: z.array(memberView),
    page: z.number().int(),
    pageSize: z.number().int(),
    total: z.number().int(),
  })
  .meta({ id: 'MemberSearchResult' });
