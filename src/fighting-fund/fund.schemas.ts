/** Request and response shapes of the fighting fund (SPEC section 3). */
import { z } from 'zod';
import { instantInput } from '../lib/instants.js';

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const campaignSlug = z
  .string()
  .regex(SLUG_PATTERN, 'must be a campaign slug: lower-case letters, digits and hyphens, up to 63 characters')
  .meta({ description: "A campaign's slug: 'YYYY-MM' for a monthly campaign", example: '2026-11' });

const instant = instantInput;

const pence = (max: number) =>
  z
    .number({ error: 'must be a whole number of pence' })
    .int('must be a whole number of pence')
    .positive('must be more than zero')
    .max(max, `must be at most ${max}`);

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .optional()
    .transform((s) => (s ? s : undefined));

export const slugParams = z.object({ slug: campaignSlug });

export const acknowledgementsQuery = z.object({
  campaign: campaignSlug.optional().meta({ description: 'Default: the current campaign' }),
  limit: z.coerce.number().int().min(1).max(500).default(100).meta({ description: 'At most this many, newest first (default 100)' }),
});

export const widgetQuery = z.object({
  campaign: campaignSlug.optional().meta({ description: 'Default: the current campaign' }),
});

export const fundSummary = z
  .object({
    campaign: z.object({ slug: z.string(), title: z.string(), startsAt: z.iso.datetime(), deadline: z.iso.datetime() }),
    currency: z.string().meta({ example: 'GBP' }),
    target: z.number().int().meta({ example: 1800000 }),
    raised: z.number().int().meta({ description: 'The sum of the campaign’s ledger entries', example: 1028200 }),
    remaining: z.number().int().meta({ description: 'max(target - raised, 0)', example: 771800 }),
    daysRemaining: z.number().int().meta({
      description: 'Whole calendar days left in the society’s time zone, counting today until the deadline passes (1 on the deadline day, 0 after)',
      example: 11,
    }),
    percent: z.number().meta({ description: 'raised / target, one decimal; may exceed 100', example: 57.1 }),
    donationCount: z.number().int().meta({
      description: 'Gifts in (online donations, supporter payments, offline gifts) less gifts reversed by a correction; refunds do not lower it',
      example: 312,
    }),
  })
  .meta({ id: 'FundSummary', description: 'A fighting-fund campaign with its total and countdown' });

export const acknowledgement = z
  .object({ name: z.string(), town: z.string().nullable(), amount: z.number().int(), givenAt: z.iso.datetime() })
  .meta({ id: 'Acknowledgement', description: 'A donor who chose to be named; amount is net of refunds' });

// ---- admin --------------------------------------------------------------------

export const campaignView = z
  .object({
    slug: z.string(),
    title: z.string(),
    kind: z.enum(['monthly', 'special']),
    target: z.number().int(),
    currency: z.string(),
    startsAt: z.iso.datetime(),
    deadline: z.iso.datetime(),
  })
  .meta({ id: 'Campaign' });

export const createCampaignRequest = z
  .object({
    slug: campaignSlug,
    title: text(200),
    target: pence(100_000_000_000),
    startsAt: instant,
    deadline: instant,
    currency: z.string().regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 code').optional().meta({ description: "Must be the society's currency" }),
  })
  .meta({ id: 'CreateCampaignRequest', description: 'A special campaign for any period (YYYY-MM slugs belong to the monthly campaigns)' });

export const updateCampaignRequest = z
  .object({
    title: text(200).optional(),
    target: pence(100_000_000_000).optional(),
    startsAt: instant.optional(),
    deadline: instant.optional(),
    currency: z.string().max(10).optional().meta({ description: 'Cannot change: 422 currency_cannot_change' }),
  })
  .refine((p) => Object.values(p).some((v: unknown) => v !== undefined), 'says nothing to change')
  .meta({ id: 'UpdateCampaignRequest' });

export const offlineMethod = z.enum(['cheque', 'bank_transfer', 'cash', 'standing_order', 'collection', 'other']);

export const offlineGiftRequest = z
  .object({
    campaign: campaignSlug.optional().meta({ description: 'Default: the campaign current at givenAt' }),
    amount: pence(1_000_000_000).meta({ description: 'In pence', example: 2500 }),
    method: offlineMethod,
    reference: text(200).meta({ description: 'Cheque number, bank reference, collection name', example: 'cheque 000123' }),
    givenAt: instant.meta({ description: 'When the money was given (not in the future)' }),
    name: optionalText(100).meta({ description: 'Kept only if acknowledge is true' }),
    town: optionalText(100).meta({ description: 'Kept only if acknowledge is true' }),
    acknowledge: z.boolean().optional().default(false),
    secondGift: z
      .boolean()
      .optional()
      .default(false)
      .meta({ description: 'Book it although the same method and reference were booked before (otherwise 409 duplicate_reference)' }),
  })
  .meta({ id: 'OfflineGiftRequest', description: 'Money received outside Stripe' });

export const ledgerEntryView = z
  .object({
    id: z.number().int(),
    campaign: z.string(),
    kind: z.enum(['online_donation', 'supporter_payment', 'offline_gift', 'refund', 'dispute', 'dispute_won', 'correction']),
    method: offlineMethod.nullable(),
    amount: z.number().int().meta({ description: 'Signed, in pence' }),
    currency: z.string(),
    givenAt: z.iso.datetime(),
    recordedAt: z.iso.datetime(),
    reference: z.string(),
    acknowledged: z.boolean(),
    name: z.string().nullable(),
    town: z.string().nullable(),
    reversesEntryId: z.number().int().nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'LedgerEntry' });

export const ledgerEntryParams = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'must be a ledger entry id')
    .transform(Number)
    .meta({ description: 'Ledger entry id' }),
});

export const reverseRequest = z.object({ reason: text(500) }).meta({ id: 'ReverseLedgerEntryRequest' });

export const ledgerCsvQuery = z.object({
  campaign: campaignSlug.optional().meta({ description: 'Default: the whole ledger' }),
});
