/** Request and response shapes of the supporters component (they also describe the API in /api/openapi.json). */
import { z } from 'zod';

const pence = z
  .number({ error: 'must be a whole number of pence' })
  .int('must be a whole number of pence')
  .positive('must be more than zero')
  .refine(Number.isSafeInteger, 'is too large');

export const supporterInterval = z.enum(['month', 'year']);

export const supporterRequest = z
  .object({
    amount: pence.meta({ description: 'Per interval, in minor units (pence); at least the configured minimum (default 300 a month)', example: 500 }),
    interval: supporterInterval,
    email: z.email('must be an email address').max(254),
    name: z.string().trim().min(1, 'is required').max(100),
    acknowledge: z.boolean().optional().default(false).meta({ description: 'Thank the supporter by name among the acknowledgements' }),
  })
  .meta({ id: 'SupporterRequest', description: 'Become a supporter: a payment every month or year through Stripe Checkout (subscription)' });

export type SupporterRequest = z.infer<typeof supporterRequest>;

export const supporterCreated = z
  .object({ id: z.uuid(), checkoutUrl: z.url().meta({ description: 'Send the reader here to set up the payment' }) })
  .meta({ id: 'SupporterCreated' });

/** The /support form (and /donate's monthly / yearly choice): amount in pounds as typed. */
export const supporterForm = z.object({
  amount: z.string().max(40).optional().default(''),
  interval: z.string().max(10).optional(),
  email: z.string().max(300).optional().default(''),
  name: z.string().max(300).optional(),
  acknowledge: z.string().max(10).optional(),
});
export type SupporterForm = z.infer<typeof supporterForm>;

export const supporterChangeRequest = z
  .object({
    amount: pence.optional(),
    interval: supporterInterval.optional(),
    pause: z.boolean().optional().meta({ description: 'true pauses collection, false resumes it' }),
    cancel: z.boolean().optional().meta({ description: 'true cancels at the end of the period already paid for, false undoes that' }),
  })
  .strict()
  .meta({ id: 'SupporterChange', description: 'Each change is made through Stripe and shown as pending until its webhook confirms it' });
export type SupporterChangeRequest = z.infer<typeof supporterChangeRequest>;

export const supporterView = z
  .object({
    id: z.uuid(),
    status: z.enum(['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled']),
    amount: z.number().int(),
    currency: z.string(),
    interval: supporterInterval,
    currentPeriodEnd: z.string().nullable(),
    cancelAtPeriodEnd: z.boolean(),
    paused: z.boolean(),
    pending: z
      .object({ amount: z.number().int().optional(), interval: supporterInterval.optional(), pause: z.boolean().optional(), cancel: z.boolean().optional(), requestedAt: z.string() })
      .nullable()
      .meta({ description: 'A change asked of Stripe that its webhook has not confirmed yet' }),
  })
  .meta({ id: 'Supporter' });

export const billingPortalResponse = z.object({ url: z.url() }).meta({ id: 'BillingPortalSession' });

export const manageLinkQuery = z.object({ token: z.string().max(4096).optional().default('') });
export const manageLinkForm = z.object({
  token: z.string().max(4096).optional().default(''),
  action: z.enum(['cancel', 'undo_cancel', 'pause', 'resume', 'change']).optional(),
  amount: z.string().max(40).optional(),
  interval: z.string().max(10).optional(),
});

export const adminSupportersQuery = z.object({
  status: z.enum(['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled']).optional(),
  page: z.coerce.number().int().min(1).max(100_000).optional().default(1),
  limit: z.coerce.number().int().min(1).max(500).optional().default(50),
});

export const adminSupporterRow = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  status: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  interval: supporterInterval,
  monthlyAmount: z.number().int(),
  currentPeriodEnd: z.string().nullable(),
  cancelAtPeriodEnd: z.boolean(),
  paused: z.boolean(),
  startedAt: z.string().nullable(),
  createdAt: z.string(),
});

export const adminSupportersResponse = z
  .object({
    supporters: z.array(adminSupporterRow),
    page: z.number().int(),
    limit: z.number().int(),
    total: z.number().int().meta({ description: 'Subscriptions matching the filter' }),
    counts: z.record(z.string(), z.number().int()).meta({ description: 'Subscriptions by status' }),
    monthlyRecurringTotal: z.number().int().meta({ description: 'Pence a month from active and past-due, unpaused subscriptions; yearly amounts divided by 12' }),
    currency: z.string(),
  })
  .meta({ id: 'AdminSupporters' });
