/**
 * The sandbox's human pages: the "test payment" page a Checkout URL leads to,
 * and a small dashboard to refund, dispute and expire what was paid, so every
 * webhook the service handles can be tried by hand. Self-contained templates
 * (templates/sandbox) that always say SANDBOX.
 */
import express, { Router, type Response } from 'express';
import type { Liquid } from 'liquidjs';
import { formatMoney, parseMajorUnits } from '../../lib/money.js';
import { moveToRequestOrigin } from '../../lib/readers-host.js';
import { createTemplateEngine } from '../../lib/templates.js';
import { SandboxApiError, type PaymentMethodChoice } from './sandbox-objects.js';
import type { SandboxState } from './sandbox-state.js';

export interface OutboxEmailSummary {
  id: string;
  to: string;
  subject: string;
  createdAt: string;
}

export function sandboxPagesRouter(
  state: SandboxState,
  options: { basePath: string; pagesUrl: string; recentEmails?: (() => Promise<OutboxEmailSummary[]>) | undefined },
): Router {
  const router = Router();
  const engine: Liquid = createTemplateEngine();
  engine.registerFilter('money', (minor: unknown, currency: unknown) =>
    typeof minor === 'number' && typeof currency === 'string' ? formatMoney(minor, currency.toUpperCase()) : '',
  );
  const base = options.basePath;
  const render = async (res: Response, template: string, vars: object, status = 200) => {
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).type('html').send(await engine.renderFile(`sandbox/${template}`, { base, ...vars }));
  };
  // Return URLs point at PUBLIC_URL; a reader who came through another address (127.0.0.1, a LAN address) goes back to it.
  const pagesOrigin = new URL(options.pagesUrl).origin;
  const back = (req: express.Request, url: string) => moveToRequestOrigin(req, pagesOrigin, url);
  router.use(express.urlencoded({ extended: false, limit: '10kb' }));

  router.get('/checkout/:id', async (req, res) => {
    const session = state.sessions.get(req.params.id);
    if (!session) {
      await render(res, 'checkout', { missing: true }, 404);
      return;
    }
    await render(res, 'checkout', { session, lineItems: state.lineItems.get(session.id) ?? [], bacsSeconds: Math.round(state.bacsDelayMs / 1000), interval: state.billing.intervalOf(session.id) });
  });

  router.post('/checkout/:id/pay', async (req, res) => {
    const method = (formField(req.body, 'method') ?? 'card') as PaymentMethodChoice;
    if (method !== 'card' && state.sessions.get(req.params.id)?.mode === 'subscription') {
      res.status(400).type('text').send('The sandbox takes subscriptions by card only');
      return;
    }
    if (!['card', 'bacs', 'bacs_failure'].includes(method)) {
      res.status(400).type('text').send('Unknown payment method');
      return;
    }
    const sessionId = req.params.id;
    const { session, events } = state.pay(sessionId, method);
    // Waits for the webhook, so the success page usually finds the payment confirmed.
    await state.deliver(events);
    if (method !== 'card') {
      state.later(state.bacsDelayMs, async () => {
        const settled = state.settleBacs(sessionId, method === 'bacs' ? 'succeeded' : 'failed');
        await state.deliver(settled.events);
      });
    }
    if (!session.success_url) {
      await render(res, 'checkout', { session, lineItems: state.lineItems.get(session.id) ?? [] });
      return;
    }
    res.redirect(303, back(req, session.success_url.replaceAll('{CHECKOUT_SESSION_ID}', session.id)));
  });

  router.post('/checkout/:id/cancel', async (req, res) => {
    const session = state.sessions.get(req.params.id);
    if (!session) {
      await render(res, 'checkout', { missing: true }, 404);
      return;
    }
    // Cancelling leaves the session open, as on Stripe: the payer may come back until it expires.
    res.redirect(303, session.cancel_url ? back(req, session.cancel_url) : base);
  });

  router.get('/', async (_req, res) => {
    const sessions = [...state.sessions.values()].reverse().map((session) => {
      let charge;
      try {
        charge = session.payment_intent ? state.chargeOf(session.id) : undefined;
      } catch {
        charge = undefined;
      }
      const disputes = charge ? [...state.moneyBack.disputes.values()].filter((d) => d.charge === charge.id) : [];
      return { session, charge, disputes, description: state.lineItems.get(session.id)?.[0]?.name ?? '' };
    });
    const subscriptions = [...state.billing.subscriptions.values()].reverse().map((subscription) => ({
      subscription,
      item: subscription.items.data[0],
      failsNext: state.billing.failNext.has(subscription.id),
      email: state.billing.customers.get(subscription.customer)?.email ?? '',
    }));
    const emails = options.recentEmails ? await options.recentEmails() : undefined;
    await render(res, 'dashboard', { sessions, subscriptions, deliveries: state.deliveries.slice(-20).reverse(), emails });
  });

  // ---- subscriptions: what Stripe's side does over a subscription's life ----------------

  router.post('/subscriptions/:id/renew', async (req, res) => {
    await state.deliver(state.billing.renew(req.params.id).events);
    res.redirect(303, base);
  });

  router.post('/subscriptions/:id/fail-next', (req, res) => {
    state.billing.getSubscription(req.params.id);
    state.billing.failNext.add(req.params.id);
    res.redirect(303, base);
  });

  router.post('/subscriptions/:id/recover', async (req, res) => {
    await state.deliver(state.billing.recover(req.params.id).events);
    res.redirect(303, base);
  });

  router.post('/subscriptions/:id/cancel', async (req, res) => {
    await state.deliver(state.billing.cancelNow(req.params.id).events);
    res.redirect(303, base);
  });

  router.post('/invoices/:id/refund', async (req, res) => {
    const { events } = state.moneyBack.createRefund({ charge: state.billing.chargeOfInvoice(req.params.id) });
    await state.deliver(events);
    res.redirect(303, base);
  });

  // The hosted invoice page a failed-payment email links to: pay it with a (new) card.
  router.get('/invoices/:id', async (req, res) => {
    const invoice = state.billing.getInvoice(req.params.id);
    await render(res, 'invoice', { invoice });
  });

  router.post('/invoices/:id/pay', async (req, res) => {
    const invoice = state.billing.getInvoice(req.params.id);
    if (invoice.status === 'open') await state.deliver(state.billing.recover(invoice.parent.subscription_details.subscription).events);
    res.redirect(303, `${base}/invoices/${invoice.id}`);
  });

  // The Customer Portal: the subscription, its invoices, cancel at the period's end, and back.
  router.get('/portal/:id', async (req, res) => {
    const session = state.billing.portalSessions.get(req.params.id);
    if (!session) throw new SandboxApiError(404, 'invalid_request_error', 'This portal session does not exist (the sandbox forgets them when it restarts).');
    const subscriptions = state.billing.subscriptionsOfCustomer(session.customer).map((subscription) => ({
      subscription,
      item: subscription.items.data[0],
      invoices: [...state.billing.invoices.values()].filter((i) => i.parent.subscription_details.subscription === subscription.id).reverse(),
    }));
    await render(res, 'portal', { session, subscriptions });
  });

  router.post('/portal/:id/subscriptions/:sub/cancel', async (req, res) => {
    const session = state.billing.portalSessions.get(req.params.id);
    if (!session || !state.billing.subscriptionsOfCustomer(session.customer).some((s) => s.id === req.params.sub)) {
      throw new SandboxApiError(404, 'invalid_request_error', 'No such subscription for this portal session.');
    }
    const undo = formField(req.body, 'undo') === 'true';
    const { events } = state.billing.update(req.params.sub, { cancel_at_period_end: undo ? 'false' : 'true' });
    await state.deliver(events);
    res.redirect(303, `${base}/portal/${session.id}`);
  });

  router.post('/sessions/:id/refund', async (req, res) => {
    const text = (formField(req.body, 'amount') ?? '').trim();
    const amount = text === '' ? undefined : parseMajorUnits(text);
    if (amount === null) throw new SandboxApiError(400, 'invalid_request_error', 'Give the refund in pounds, such as 5 or 2.50, or leave it empty for a full refund.');
    const charge = state.chargeOf(req.params.id);
    const { events } = state.moneyBack.createRefund({ charge: charge.id, amount });
    await state.deliver(events);
    res.redirect(303, base);
  });

  router.post('/sessions/:id/dispute', async (req, res) => {
    const { events } = state.moneyBack.openDispute(req.params.id);
    await state.deliver(events);
    res.redirect(303, base);
  });

  router.post('/disputes/:id/close', async (req, res) => {
    const outcome = formField(req.body, 'outcome') === 'won' ? 'won' : 'lost';
    const { events } = state.moneyBack.closeDispute(req.params.id, outcome);
    await state.deliver(events);
    res.redirect(303, base);
  });

  router.post('/sessions/:id/expire', async (req, res) => {
    const { events } = state.expireSession(req.params.id);
    await state.deliver(events);
    res.redirect(303, base);
  });

  router.use(((err, _req, res, next) => {
    if (!(err instanceof SandboxApiError)) {
      next(err);
      return;
    }
    void render(res, 'problem', { message: err.message }, err.status).catch(next);
  }) as express.ErrorRequestHandler);
  return router;
}

/** A field of a urlencoded form body (absent when the body is not a form). */
function formField(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}
