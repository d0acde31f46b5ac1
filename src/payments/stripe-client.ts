/** The Stripe API client, pinned to the API version of the installed `stripe` package. */
import Stripe from 'stripe';

export type { Stripe };

/** The API version every request and every webhook endpoint of ours speaks. */
export const STRIPE_API_VERSION = Stripe.API_VERSION;

/**
 * A client for `apiBase`: Stripe itself, or a Stripe-compatible server. A path in
 * the base (http://127.0.0.1:3000/sandbox/stripe) is put in front of every request,
 * which the library cannot do by itself.
 */
export function createStripeClient(options: { secretKey: string; apiBase: string; maxNetworkRetries?: number }): Stripe {
  const base = new URL(options.apiBase);
  const prefix = base.pathname.replace(/\/+$/, '');
  return new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    host: base.hostname,
    port: base.port || (base.protocol === 'https:' ? 443 : 80),
    protocol: base.protocol === 'https:' ? 'https' : 'http',
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: 10_000,
    appInfo: { name: 'reader-coop' },
    ...(prefix ? { httpClient: new PathPrefixHttpClient(Stripe.createNodeHttpClient(), prefix) } : {}),
  });
}

class PathPrefixHttpClient extends Stripe.HttpClient {
  constructor(
    private readonly inner: Stripe.HttpClient,
    private readonly prefix: string,
  ) {
    super();
  }
  override getClientName(): string {
    return this.inner.getClientName();
  }
  override makeRequest(...args: Parameters<Stripe.HttpClient['makeRequest']>): ReturnType<Stripe.HttpClient['makeRequest']> {
    const [host, port, path, ...rest] = args;
    return this.inner.makeRequest(host, port, this.prefix + path, ...rest);
  }
}
