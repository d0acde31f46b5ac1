/** POST /api/donations (JSON) and POST /donate (the /donate page's form). */
import { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { renderDonatePage } from '../fighting-fund/fund-pages.js';
import { parseInput } from '../lib/http.js';
import { onReadersHost } from '../lib/readers-host.js';
import { errorResponses, type ZodOpenApiPathsObject } from '../lib/openapi.js';
import { donationCreated, donationForm, donationRequest } from './donations.schemas.js';
import { cancelledDonationForm, startDonation, submitDonationForm } from './donations.service.js';
import { findCurrentPerson, optionalSession } from '../members/access.js';
import { submitSupporterForm } from '../supporters/supporter-signup.js';

export function donationsRouter(deps: AppDeps): Router {
  const router = Router();

  router.post('/api/donations', async (req, res) => {
    const input = parseInput(donationRequest, req.body);
    res.status(201).json(await startDonation(deps, input));
  });

  // Checkout's cancel URL: back to the same form, filled in.
  router.get('/donate/resume/:id', async (req, res) => {
    const values = await cancelledDonationForm(deps, req.params.id);
    if (!values) {
      res.redirect(303, '/donate');
      return;
    }
    await renderDonatePage(deps, res, { values: { ...values, acknowledge: values.acknowledge === 'true' }, notice: 'cancelled' });
  });

  router.post('/donate', optionalSession(deps), async (req, res) => {
    const posted = parseInput(donationForm, req.body ?? {});
    // Without JavaScript a chosen suggested amount arrives on its own, with an empty amount box.
    const form = posted.amount.trim() === '' && posted.suggested && /^\d{1,6}$/.test(posted.suggested) ? { ...posted, amount: posted.suggested } : posted;
    if (form.frequency === 'month' || form.frequency === 'year') {
      // Monthly and yearly giving is a supporter's subscription.
      const supporter = await submitSupporterForm(deps, { ...form, interval: form.frequency }, findCurrentPerson(req)?.id ?? null);
      if (supporter.ok) {
        res.redirect(303, onReadersHost(deps.config, req, supporter.checkoutUrl));
        return;
      }
      await renderDonatePage(deps, res, { values: { ...form, acknowledge: supporter.acknowledge }, errors: supporter.errors, status: supporter.status });
      return;
    }
    const result = await submitDonationForm(deps, form);
    if (result.ok) {
      res.redirect(303, onReadersHost(deps.config, req, result.checkoutUrl));
      return;
    }
    await renderDonatePage(deps, res, {
      values: { ...result.values, acknowledge: result.acknowledge },
      errors: result.errors,
      status: result.status,
    });
  });

  return router;
}

export const donationsOpenApi: ZodOpenApiPathsObject = {
  '/api/donations': {
    post: {
      tags: ['donations'],
      summary: 'Start a donation to the fighting fund',
      description:
        'Records a pending donation and opens a Stripe Checkout Session for it. The gift reaches the fund only when Stripe confirms the payment (webhook). ' +
        '422 codes: amount_below_minimum, amount_above_maximum, campaign_not_found, campaign_closed, campaign_not_started, acknowledgement_needs_name.',
      requestBody: { required: true, content: { 'application/json': { schema: donationRequest } } },
      responses: {
        '201': { description: 'Created: send the donor to checkoutUrl', content: { 'application/json': { schema: donationCreated } } },
        ...errorResponses(400, 422, 502),
      },
    },
  },
  '/donate': {
    post: {
      tags: ['donations', 'pages'],
      summary: 'The /donate form (amount in pounds)',
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: donationForm } } },
      responses: {
        '303': { description: 'To the Checkout page' },
        '422': { description: 'The form again, with the problems beside the fields', content: { 'text/html': {} } },
      },
    },
  },
  '/donate/resume/{id}': {
    get: {
      tags: ['donations', 'pages'],
      summary: "Checkout's cancel URL: the donate form filled in as the donor left it",
      requestParams: { path: z.object({ id: z.string() }) },
      responses: {
        '200': { description: 'The form, filled in', content: { 'text/html': {} } },
        '303': { description: 'To /donate, for an unknown or already paid gift' },
      },
    },
  },
};
