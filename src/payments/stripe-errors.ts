/**
 * What a failed Stripe call means for the person waiting (SPEC 3: 502 for the
 * payment provider). Transient failures (no connection, Stripe's own 5xx, rate
 * limiting) are `payment_provider_unavailable`, "try again in a minute", logged
 * as warnings. Permanent ones (a request Stripe refuses, a wrong or revoked key,
 * a missing permission, an idempotency key reused with other parameters) will
 * fail the same way on every retry: `payment_provider_error`, logged as errors
 * so that someone fixes the configuration, and the person is not told to retry.
 */
import Stripe from 'stripe';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export type PaymentProviderErrorCode = 'payment_provider_unavailable' | 'payment_provider_error';

/** Whether retrying the same call later may succeed. */
export function isTransientStripeError(err: unknown): boolean {
  return (
    err instanceof Stripe.errors.StripeConnectionError ||
    err instanceof Stripe.errors.StripeAPIError ||
    err instanceof Stripe.errors.StripeRateLimitError ||
    // Not a Stripe error at all (a socket reset before the library wrapped it): worth a retry.
    !(err instanceof Stripe.errors.StripeError)
  );
}

/**
 * Logs a failed Stripe call and returns the 502 to throw. `what` says what was not done,
 * for the log and the person ("nothing has been charged").
 */
export function paymentProviderError(logger: Logger, err: unknown, context: Record<string, unknown>, what: string): AppError<PaymentProviderErrorCode> {
  const stripeError = err instanceof Stripe.errors.StripeError ? { type: err.type, code: err.code, statusCode: err.statusCode, requestId: err.requestId } : undefined;
  if (isTransientStripeError(err)) {
    logger.warn({ err, ...context, stripeError }, `Stripe is unavailable: ${what}`);
    return new AppError({
      code: 'payment_provider_unavailable',
      status: 502,
      message: `Our payment provider is not answering just now: ${what}. Please try again in a minute.`,
      cause: err,
    });
  }
  logger.error({ err, ...context, stripeError }, `Stripe refused the request: ${what}`);
  return new AppError({
    code: 'payment_provider_error',
    status: 502,
    message: `Our payment provider refused the request: ${what}. We have been told and will put it right; trying again will not help until then.`,
    cause: err,
  });
}
