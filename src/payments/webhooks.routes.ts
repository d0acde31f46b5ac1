/** POST /webhooks/stripe: Stripe's endpoint. Mounted before any JSON body parser: the signature covers the raw bytes. */
import express, { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import type { PaymentHandlers } from './payment-handlers.js';
import { receiveStripeEvent } from './webhooks.service.js';

export function webhookRouter(deps: AppDeps, handlers: PaymentHandlers): Router {
  const router = Router();
  router.post('/webhooks/stripe', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    res.json(await receiveStripeEvent(deps, handlers, raw, req.get('stripe-signature')));
  });
  return router;
}

const webhookReceipt = z
  .object({
    received: z.literal(true),
    eventId: z.string(),
    outcome: z.enum(['applied', 'ignored', 'duplicate', 'queued']).meta({
      description: "'queued': the event is recorded but its handler failed; our own retry job will apply it",
    }),
  })
  .meta({ id: 'WebhookReceipt' });

export const webhookOpenApi: ZodOpenApiPathsObject = {
  '/webhooks/stripe': {
    post: {
      tags: ['payments'],
      summary: "Stripe's webhook endpoint",
      description:
        'A Stripe event, verified by its Stripe-Signature (HMAC over the raw body, 300 s tolerance). Every event is stored once by id; ' +
        '2xx once it is safely recorded, whether or not it concerned this service.',
      security: [{ stripeSignature: [] }],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: z.object({ id: z.string(), type: z.string(), data: z.object({ object: z.record(z.string(), z.unknown()) }) }).meta({ id: 'StripeEvent' }) } },
      },
      responses: {
        '200': { description: 'Recorded', content: { 'application/json': { schema: webhookReceipt } } },
        ...errorResponses(400),
      },
    },
  },
};
