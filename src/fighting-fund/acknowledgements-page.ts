/**
 * GET /acknowledgements: the public page thanking the current campaign's donors
 * who chose to be named (newest first, amounts net of refunds); everyone else is
 * only counted, in the campaign's figures.
 */
import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { renderPage } from '../lib/pages.js';
import type { ZodOpenApiPathsObject } from '../lib/openapi.js';
import { listAcknowledgements } from './acknowledgements.js';
import { fundSummariesFor } from './fund-summary.service.js';

export function acknowledgementsPageRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/acknowledgements', async (_req, res) => {
    const [fund, acknowledgements] = await Promise.all([fundSummariesFor(deps).get(null), listAcknowledgements(deps, { limit: 500 })]);
    res.setHeader('Cache-Control', 'public, max-age=30');
    await renderPage(deps, res, 'acknowledgements', { title: 'Thank you', fund: fund.summary, acknowledgements });
  });
  return router;
}

export const acknowledgementsPageOpenApi: ZodOpenApiPathsObject = {
  '/acknowledgements': {
    get: {
      tags: ['fighting fund', 'pages'],
      summary: "The current campaign's donors who chose to be thanked by name",
      responses: { '200': { description: 'HTML', content: { 'text/html': {} } } },
    },
  },
};
