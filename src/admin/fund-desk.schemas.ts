/** Request shapes of the treasurer's fund desk: the bank import, the donor list, the ledger page. */
import { z } from 'zod';
import { campaignSlug, offlineMethod } from '../fighting-fund/fund.schemas.js';

const calendarDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'must be a real date')
  .refine((s) => s >= '1900-01-01' && s <= '9999-12-31', 'must be a date between 1900 and 9999');

export const importQuery = z.object({
  dryRun: z.enum(['true', 'false']).optional().default('false').meta({ description: 'true: preview only, book nothing' }),
});

export const acknowledgementsRangeQuery = z
  .object({
    from: calendarDay.meta({ description: 'First day (society time zone), YYYY-MM-DD' }),
    to: calendarDay.meta({ description: 'Last day, inclusive' }),
  })
  .refine((q) => q.from <= q.to, { error: 'from must not be after to', path: ['to'] })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= 366 * 86_400_000, { error: 'at most a year at a time', path: ['to'] });

export const ledgerPageQuery = z.object({
  campaign: z.union([campaignSlug, z.literal('')]).optional().transform((s) => s || undefined),
  kind: z
    .enum(['online_donation', 'supporter_payment', 'offline_gift', 'refund', 'dispute', 'dispute_won', 'correction', ''])
    .optional()
    .transform((s) => s || undefined),
  method: z.union([offlineMethod, z.literal('')]).optional().transform((s) => s || undefined),
  from: z.union([calendarDay, z.literal('')]).optional().transform((s) => s || undefined),
  to: z.union([calendarDay, z.literal('')]).optional().transform((s) => s || undefined),
  page: z.coerce.number().int().min(1).max(100_000).optional().default(1),
  done: z.string().max(40).optional(),
});

export const donorPageQuery = z.object({
  from: z.union([calendarDay, z.literal('')]).optional().transform((s) => s || undefined),
  to: z.union([calendarDay, z.literal('')]).optional().transform((s) => s || undefined),
});

export const importReport = z
  .object({
    dryRun: z.boolean(),
    rows: z.array(
      z
        .object({
          line: z.number().int(),
          status: z.enum(['new', 'booked', 'already_booked', 'wrong']),
          date: z.string(),
          amount: z.number().int().nullable(),
          reference: z.string(),
          method: z.string(),
          problems: z.array(z.string()).optional(),
          entryId: z.number().int().optional(),
        })
        .loose(),
    ),
    counts: z.object({ rows: z.number().int(), new: z.number().int(), booked: z.number().int(), alreadyBooked: z.number().int(), wrong: z.number().int() }),
    total: z.number().int(),
    currency: z.string(),
    lines: z.array(z.string()),
  })
  .meta({ id: 'BankImportReport' });

export const donorListResponse = z
  .object({
    from: z.string(),
    to: z.string(),
    currency: z.string(),
    count: z.number().int(),
    total: z.number().int(),
    named: z.array(z.object({ name: z.string(), town: z.string().nullable(), amount: z.number().int(), givenAt: z.string() })),
    unnamed: z.object({ count: z.number().int(), total: z.number().int() }),
    groups: z.array(z.object({ amount: z.number().int(), donors: z.array(z.object({ name: z.string(), town: z.string().nullable() })), unnamedCount: z.number().int() })),
    text: z.string(),
  })
  .meta({ id: 'DonorList' });
