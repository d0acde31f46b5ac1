/** Request shapes of sign-in. */
import { z } from 'zod';

export const loginRequest = z
  .object({
    email: z.string().trim().max(254).pipe(z.email('must be an email address')).meta({ example: 'reader@example.org' }),
  })
  .meta({ id: 'LoginRequest', description: 'Ask for a sign-in link by email' });

export const loginAccepted = z
  .object({ status: z.literal('sent'), message: z.string() })
  .meta({ id: 'LoginAccepted', description: 'The same answer whether or not the email is known' });

export const callbackQuery = z.object({ token: z.string().max(200).optional().default('') });

export const callbackForm = z
  .object({ token: z.string().max(200).meta({ description: 'The token from the emailed link' }) })
  .meta({ id: 'SignInCallbackForm' });
