/**
 * What the tests add in front of the sandbox's Stripe API: every request recorded
 * for assertions (method, path, decoded params, idempotency key, status), and
 * calls made to fail on purpose. Production's sandbox keeps neither: a log that
 * grows with every request and a switch to break payments have no place there.
 */
import express, { Router } from 'express';
import { decodeStripeParams, flatPairs, type FormObject } from '../../src/payments/sandbox/form-params.js';
import { SandboxApiError } from '../../src/payments/sandbox/sandbox-objects.js';

export interface RecordedRequest {
  method: string;
  /** As Stripe names it: '/v1/checkout/sessions'. */
  path: string;
  /** Body (POST) or query (GET), decoded into nested objects; values are strings as on the wire. */
  params: FormObject;
  idempotencyKey: string | null;
  status: number;
}

export interface FailureOptions {
  method?: string | undefined;
  status?: number | undefined;
  /** Sent as Stripe-Should-Retry: false unless true, so the client's own retries do not hide the failure. */
  retryable?: boolean | undefined;
}

interface PlannedFailure {
  method: string | undefined;
  path: string | RegExp;
  remaining: number;
  status: number;
  retryable: boolean;
}

export interface StripeTestHooks {
  /** Mount in front of the sandbox's API router. */
  router: Router;
  requests: RecordedRequest[];
  /** Makes the next `count` calls matching `path` (exact string or RegExp) fail with `status` (500). */
  failNext(path: string | RegExp, count?: number, options?: FailureOptions): void;
}

export function stripeTestHooks(): StripeTestHooks {
  const requests: RecordedRequest[] = [];
  const failures: PlannedFailure[] = [];
  const router = Router();
  // The same parser as the sandbox's: it then finds the body read and keeps it.
  router.use(express.text({ type: 'application/x-www-form-urlencoded', limit: '1mb' }));
  router.use((req, res, next) => {
    const params = decodeStripeParams(req.method === 'GET' ? flatPairs(req.originalUrl.split('?')[1] ?? '') : flatPairs(typeof req.body === 'string' ? req.body : ''));
    res.on('finish', () => {
      requests.push({ method: req.method, path: req.path, params, idempotencyKey: req.get('idempotency-key') ?? null, status: res.statusCode });
    });
    const failure = failures.find((f) => f.remaining > 0 && (!f.method || f.method === req.method) && (typeof f.path === 'string' ? f.path === req.path : f.path.test(req.path)));
    if (!failure) {
      next();
      return;
    }
    failure.remaining--;
    const error = new SandboxApiError(failure.status, failure.status >= 500 ? 'api_error' : 'invalid_request_error', 'Sandbox: this call fails because a test asked it to.');
    res.setHeader('Stripe-Should-Retry', String(failure.retryable));
    res.status(failure.status).json(error.toJSON());
  });
  return {
    router,
    requests,
    failNext(path, count = 1, options = {}) {
      failures.push({ path, remaining: count, method: options.method?.toUpperCase(), status: options.status ?? 500, retryable: options.retryable ?? false });
    },
  };
}
