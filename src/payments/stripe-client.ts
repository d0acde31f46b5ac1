/** The Stripe API client, pinned to the API version of the installed `stripe` package. */
import Stripe from 'stripe';

export type { Stripe };

/** The API version every request and every webhook endpoint of ours speaks. */
export const STRIPE_API_VERSION = Stripe.API_VERSION;

export function createStripeClient(options: { secretKey: string; apiBase: string }): Stripe {
  const base = new URL(options.apiBase);
  return new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    host: base.hostname,
    port: base.port || (base.protocol === 'https:' ? 443 : 80),
    protocol: base.protocol === 'https:' ? 'https' : 'http',
    maxNetworkRetries: 2,
    timeout: 10_000,
    appInfo: { name: 'reader-coop' },
  });
}
