/** Request and response shapes of the signed-in person's own account. */
import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const postalAddress = z
  .object({
    line1: text(200),
    line2: z.string().trim().max(200).nullish().transform((s) => (s ? s : null)),
    town: text(100),
    postcode: text(20),
    country: text(100).meta({ example: 'GB' }),
  })
  .strict()
  .meta({ id: 'PostalAddress' });

export const emailPreferences = z
  .object({
    fundAppeals: z.boolean().optional().meta({ description: 'Fighting-fund appeals and updates' }),
    societyNews: z.boolean().optional().meta({ description: "News of the society: meetings, votes, reports" }),
  })
  .strict()
  .meta({ id: 'EmailPreferences', description: 'Optional emails; receipts, sign-in links and notices the law requires are always sent' });

/** Only these fields: an `id`, `email` or `roles` in the body is refused, not ignored. */
export const updateMeRequest = z
  .object({
    name: text(200).nullable().optional(),
    postalAddress: postalAddress.nullable().optional(),
    emailPreferences: emailPreferences.optional(),
  })
  .strict()
  .meta({ id: 'UpdateMeRequest', description: 'Change your name, postal address or email preferences' });

export type UpdateMeRequest = z.infer<typeof updateMeRequest>;

/** The /account page's details form (HTML forms cannot PATCH). */
export const detailsForm = z.object({
  name: z.string().max(300).optional().default(''),
  line1: z.string().max(300).optional().default(''),
  line2: z.string().max(300).optional().default(''),
  town: z.string().max(300).optional().default(''),
  postcode: z.string().max(100).optional().default(''),
  country: z.string().max(300).optional().default(''),
  fundAppeals: z.string().max(10).optional(),
  societyNews: z.string().max(10).optional(),
  _csrf: z.string().max(200).optional(),
});

export type DetailsForm = z.infer<typeof detailsForm>;

export const erasureRequest = z
  .object({ confirm: z.literal(true, { error: 'must be true: erasure cannot be undone' }) })
  .meta({ id: 'ErasureRequest' });

export const erasureForm = z.object({ confirm: z.string().max(10).optional(), _csrf: z.string().max(200).optional() });

const postalAddressView = z
  .object({ line1: z.string(), line2: z.string().nullable(), town: z.string(), postcode: z.string(), country: z.string() })
  .meta({ id: 'PostalAddressView' });

const personView = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    postalAddress: postalAddressView.nullable(),
    emailPreferences: z.object({ fundAppeals: z.boolean(), societyNews: z.boolean() }),
    roles: z.array(z.enum(['admin', 'treasurer'])),
    createdAt: z.string(),
    lastSignedInAt: z.string().nullable(),
  })
  .meta({ id: 'Person' });

export const meResponse = z
  .object({
    person: personView,
    member: z.record(z.string(), z.unknown()).nullable().meta({ description: 'The register entry when the person is a member' }),
    shares: z.object({ held: z.number().int(), paid: z.number().int(), transactions: z.array(z.unknown()) }),
    supporter: z.record(z.string(), z.unknown()).nullable(),
    donations: z.array(
      z.object({
        id: z.uuid(),
        amount: z.number().int(),
        currency: z.string(),
        status: z.string(),
        campaign: z.object({ slug: z.string(), title: z.string() }),
        createdAt: z.string(),
        paidAt: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'Me' });

export const erasureResponse = z
  .object({ erased: z.array(z.string()), kept: z.array(z.string()), message: z.string() })
  .meta({ id: 'ErasureResult' });
