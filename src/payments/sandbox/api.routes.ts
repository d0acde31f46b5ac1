/**
 * The sandbox's Stripe API: the subset this service calls, spoken as Stripe
 * speaks it (form-encoded requests with nested keys, JSON objects, Stripe-shaped
 * errors, Idempotency-Key). It keeps nothing about the requests themselves:
 * recording them and making calls fail on purpose are the test harness's
 * (tests/support/fake-stripe.ts), in front of this router.
 */
import { createHash } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { decodeStripeParams, flatPairs, type FormObject } from './form-params.js';
import { createdRange } from './list-objects.js';
import { stringMap } from './form-params.js';
import { SandboxApiError, type SandboxEvent } from './sandbox-objects.js';
import type { SandboxState } from './sandbox-state.js';

interface StoredResponse {
  fingerprint: string;
  status: number;
  body: unknown;
  /** When it was first answered (the sandbox's Unix seconds). */
  at: number;
}

/** Stripe forgets an idempotency key after 24 hours; so does the sandbox, which would otherwise keep every one. */
const IDEMPOTENCY_KEY_SECONDS = 24 * 60 * 60;

export class SandboxApi {
  private readonly idempotent = new Map<string, StoredResponse>();
  private answered = 0;

  constructor(private readonly state: SandboxState) {}

  router(): Router {
    const router = Router();
    router.use(express.text({ type: 'application/x-www-form-urlencoded', limit: '1mb' }));

    router.post('/v1/checkout/sessions', this.handle((p) => this.state.createSession(p)));
    router.get('/v1/checkout/sessions/:id', this.handle((_p, req) => this.state.getSession(String(req.params.id))));
    router.post(
      '/v1/checkout/sessions/:id/expire',
      this.handle((_p, req) => {
        const { session, events } = this.state.expireSession(String(req.params.id));
        this.deliverLater(events);
        return session;
      }),
    );
    router.get(
      '/v1/refunds',
      this.handle((p) =>
        this.state.moneyBack.listRefunds({
          charge: optional(p.charge),
          paymentIntent: optional(p.payment_intent),
          created: createdRange(p.created),
          limit: clampLimit(p.limit),
          startingAfter: optional(p.starting_after),
        }),
      ),
    );
    router.get(
      '/v1/charges',
      this.handle((p) =>
        this.state.listCharges({
          paymentIntent: optional(p.payment_intent),
          created: createdRange(p.created),
          limit: clampLimit(p.limit),
          startingAfter: optional(p.starting_after),
        }),
      ),
    );
    router.get(
      '/v1/disputes',
      this.handle((p) =>
        this.state.moneyBack.listDisputes({
          charge: optional(p.charge),
          paymentIntent: optional(p.payment_intent),
          created: createdRange(p.created),
          limit: clampLimit(p.limit),
          startingAfter: optional(p.starting_after),
        }),
      ),
    );
    router.post(
      '/v1/refunds',
      this.handle((p) => {
        const amount = optional(p.amount);
        if (amount !== undefined && !/^\d{1,15}$/.test(amount)) {
          throw new SandboxApiError(400, 'invalid_request_error', `Invalid integer: ${amount}`, 'parameter_invalid_integer', 'amount');
        }
        const { refund, events } = this.state.moneyBack.createRefund({
          charge: optional(p.charge),
          paymentIntent: optional(p.payment_intent),
          amount: amount === undefined ? undefined : Number(amount),
          reason: optional(p.reason),
          metadata: stringMap(p.metadata, 'metadata'),
        });
        // After the answer, as Stripe does: the caller may still hold locks its webhook handler needs.
        this.deliverLater(events);
        return refund;
      }),
    );
    // Billing: subscriptions, their invoices, the Customer Portal (sandbox-billing.ts).
    router.get('/v1/subscriptions/:id', this.handle((_p, req) => this.state.billing.getSubscription(String(req.params.id))));
    router.post(
      '/v1/subscriptions/:id',
      this.handle((p, req) => {
        const { subscription, events } = this.state.billing.update(String(req.params.id), p);
        this.deliverLater(events);
        return subscription;
      }),
    );
    router.delete(
      '/v1/subscriptions/:id',
      this.handle((_p, req) => {
        const { events } = this.state.billing.cancelNow(String(req.params.id), 'cancellation_requested');
        this.deliverLater(events);
        return this.state.billing.getSubscription(String(req.params.id));
      }),
    );
    router.get('/v1/invoices/:id', this.handle((_p, req) => this.state.billing.getInvoice(String(req.params.id))));
    router.get(
      '/v1/invoice_payments',
      this.handle((p) =>
        this.state.billing.listInvoicePayments({
          invoice: optional(p.invoice),
          payment: p.payment,
          status: optional(p.status),
          created: createdRange(p.created),
          limit: clampLimit(p.limit),
          startingAfter: optional(p.starting_after),
        }),
      ),
    );
    router.post('/v1/billing_portal/sessions', this.handle((p) => this.state.billing.createPortalSession(p)));
    router.get('/v1/charges/:id', this.handle((_p, req) => this.state.getCharge(String(req.params.id))));
    router.get('/v1/refunds/:id', this.handle((_p, req) => this.state.moneyBack.getRefund(String(req.params.id))));
    router.get('/v1/disputes/:id', this.handle((_p, req) => this.state.moneyBack.getDispute(String(req.params.id))));
    router.get('/v1/payment_intents/:id', this.handle((_p, req) => this.state.getPaymentIntent(String(req.params.id))));

    router.use((req, res) => {
      this.send(res, new SandboxApiError(404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${req.path}). The sandbox implements only what this service calls.`));
    });
    const onError: ErrorRequestHandler = (err, req, res, _next) => {
      const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
      this.send(res, new SandboxApiError(status >= 400 && status < 500 ? status : 500, status < 500 ? 'invalid_request_error' : 'api_error', 'The request could not be read.'));
    };
    router.use(onError);
    return router;
  }

  private deliverLater(events: SandboxEvent[]): void {
    setImmediate(() => void this.state.deliver(events));
  }

  private handle(fn: (params: FormObject, req: Request) => unknown) {
    return (req: Request, res: Response) => {
      const params = decodeStripeParams(req.method === 'GET' ? flatPairs(req.originalUrl.split('?')[1] ?? '') : flatPairs(typeof req.body === 'string' ? req.body : ''));
      if (!/^Bearer \S+$/.test(req.get('authorization') ?? '') && !/^Basic \S+$/.test(req.get('authorization') ?? '')) {
        this.send(res, new SandboxApiError(401, 'invalid_request_error', 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.'));
        return;
      }
      const key = req.method === 'POST' ? (req.get('idempotency-key') ?? null) : null;
      const fingerprint = createHash('sha256').update(`${req.method} ${req.path} ${JSON.stringify(params)}`).digest('hex');
      if (key) {
        this.forgetOldKeys();
        const stored = this.idempotent.get(key);
        if (stored) {
          if (stored.fingerprint !== fingerprint) {
            this.send(res, new SandboxApiError(400, 'idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}'.`));
            return;
          }
          res.setHeader('Idempotent-Replayed', 'true');
          this.send(res, stored.body, stored.status);
          return;
        }
      }
      let status = 200;
      let body: unknown;
      try {
        body = fn(params, req);
      } catch (err) {
        if (!(err instanceof SandboxApiError)) throw err;
        status = err.status;
        body = err.toJSON();
      }
      // Stripe replays errors too, except for server errors, which may be retried.
      // Only a key not held (or just forgotten) gets here: the map keeps the order keys were answered in.
      if (key && status < 500) this.idempotent.set(key, { fingerprint, status, body: structuredClone(body), at: this.state.nowSeconds() });
      this.send(res, body, status);
    };
  }

  /** Drops the keys answered more than IDEMPOTENCY_KEY_SECONDS ago: the map is in answer order, so from the front. */
  private forgetOldKeys(): void {
    const oldest = this.state.nowSeconds() - IDEMPOTENCY_KEY_SECONDS;
    for (const [key, stored] of this.idempotent) {
      if (stored.at >= oldest) break;
      this.idempotent.delete(key);
    }
  }

  private send(res: Response, body: unknown, status = 200): void {
    const error = body instanceof SandboxApiError ? body : null;
    const code = error ? error.status : status;
    res.setHeader('Request-Id', `req_sandbox_${++this.answered}`);
    res.status(code).json(error ? error.toJSON() : body);
  }
}

function optional(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function clampLimit(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : 10;
  if (n < 1 || n > 100) throw new SandboxApiError(400, 'invalid_request_error', 'This value must be between 1 and 100.', 'parameter_invalid_integer', 'limit');
  return n;
}
