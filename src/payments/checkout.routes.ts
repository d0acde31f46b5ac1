/** The pages Stripe Checkout sends the payer back to: /checkout/success and /checkout/cancelled. */
import { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../lib/http.js';
import type { ZodOpenApiPathsObject } from '../lib/openapi.js';
import { renderPage } from '../lib/pages.js';
import type { CheckoutReturns } from './checkout-returns.js';
import { checkoutReturnState } from './checkout.service.js';

const successQuery = z.object({ session_id: z.string().max(300).optional() });

export function checkoutPagesRouter(deps: AppDeps, returns: CheckoutReturns = {}): Router {
  const router = Router();
  router.get('/checkout/success', async (req, res) => {
    const query = parseInput(successQuery, req.query);
    const { state, purpose, recordId } = await checkoutReturnState(deps, query.session_id);
    const details = purpose && recordId ? await returns[purpose]?.(recordId) : undefined;
    // Shares paid for but not yet allotted (the allotment follows the payment's event) count as confirming.
    const allotting = state === 'confirmed' && details?.kind === 'shares' && details.status !== 'allotted' && details.status !== 'refused';
    res.setHeader('Cache-Control', 'no-store');
    // The page refreshes itself while the webhook is on its way, and while a Direct Debit is processing.
    const refresh = state === 'confirming' || allotting ? 3 : state === 'processing' ? 10 : undefined;
    await renderPage(deps, res, 'checkout-success', { title: 'Thank you', state, purpose, details, refresh });
  });
  router.get('/checkout/cancelled', async (_req, res) => {
    await renderPage(deps, res, 'checkout-cancelled', { title: 'Payment cancelled' });
  });
  return router;
}

export const checkoutPagesOpenApi: ZodOpenApiPathsObject = {
  '/checkout/success': {
    get: {
      tags: ['pages'],
      summary: 'Where Stripe Checkout returns after paying',
      description: 'Says whether the payment is confirmed yet (by webhook). An unknown session id still gets a friendly page and reveals nothing.',
      requestParams: { query: successQuery },
      responses: { '200': { description: 'HTML page', content: { 'text/html': {} } } },
    },
  },
  '/checkout/cancelled': {
    get: {
      tags: ['pages'],
      summary: 'Where Stripe Checkout returns when the payer cancels',
      responses: { '200': { description: 'HTML page', content: { 'text/html': {} } } },
    },
  },
};
