/** Request shapes of the donations component. */
import { z } from 'zod';

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((s) => (s ? s : undefined));

export const donationRequest = z
  .object({
    amount: z
      .number({ error: 'must be a whole number of pence' })
      .int('must be a whole number of pence')
      .positive('must be more than zero')
      .refine(Number.isSafeInteger, 'is too large')
      .meta({ description: 'In minor units (pence); between the configured minimum (default 100) and maximum (default 1000000)', example: 1000 }),
    email: z.email('must be an email address').max(254),
    name: optionalText(100).meta({ description: 'Shown on the acknowledgements only if `acknowledge` is true' }),
    town: optionalText(100),
    acknowledge: z.boolean().optional().default(false).meta({ description: 'Name the donor (name and town) among the acknowledgements' }),
    campaign: z.string().min(1).max(100).optional().meta({ description: "A campaign's slug; default the current campaign" }),
  })
  .meta({ id: 'DonationRequest', description: 'A gift to the fighting fund, paid through Stripe Checkout' });

export type DonationRequest = z.infer<typeof donationRequest>;

export const donationCreated = z
  .object({
    id: z.uuid(),
    checkoutUrl: z.url().meta({ description: 'Send the donor here to pay (Stripe Checkout, or the sandbox)' }),
  })
  .meta({ id: 'DonationCreated' });

/** The /donate form: the amount in pounds as typed ("10", "12.50", "£1,000"). */
export const donationForm = z.object({
  amount: z.string().max(40).optional().default(''),
  /** A suggested amount's radio button (whole pounds); used when the amount box is empty (no JavaScript). */
  suggested: z.string().max(10).optional(),
  email: z.string().max(300).optional().default(''),
  name: z.string().max(300).optional(),
  town: z.string().max(300).optional(),
  acknowledge: z.string().max(10).optional(),
  campaign: z.string().max(100).optional(),
  /** once (a donation), month or year (a supporter's subscription: the supporters component). */
  frequency: z.string().max(10).optional(),
});

export type DonationForm = z.infer<typeof donationForm>;

export const checkoutReturnQuery = z.object({ session_id: z.string().max(300).optional() });
