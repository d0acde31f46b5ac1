/** POST /webhooks/stripe: Stripe's endpoint. Mounted before any JSON body parser: the signature covers the raw bytes. */
import express, { Router, type ErrorRequestHandler } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { createEventRecorder } from './record-stripe-events.js';
import { receiveStripeEvent } from './webhooks.service.js';

/**
 * Mounted ahead of the request log (app.ts), so it logs each delivery itself: one
 * line per event recorded, a warning per delivery refused or not stored.
 */
export function webhookRouter(deps: AppDeps): Router {
  const router = Router();
  const recorder = createEventRecorder(deps);
  const log = deps.logger.child({ route: 'POST /webhooks/stripe' });
  router.post('/webhooks/stripe', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const receipt = await receiveStripeEvent(deps, recorder, raw, req.get('stripe-signature'));
    log.info({ eventId: receipt.eventId, outcome: receipt.outcome }, 'stripe event received');
    res.json(receipt);
  });
  router.use('/webhooks/stripe', ((err, req, _res, next) => {
    log.warn({ err, ip: req.ip }, 'stripe webhook delivery not recorded');
    deps.metrics?.stripeDeliveries.inc({ type: 'unknown', outcome: 'rejected' });
    next(err);
  }) satisfies ErrorRequestHandler);
  return router;
}

const webhookReceipt = z
  .object({
    received: z.literal(true),
    eventId: z.string(),
    outcome: z.enum(['recorded', 'duplicate']).meta({
      description: "'recorded': stored now with the job that applies it right after; 'duplicate': this event id had been received before",
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
