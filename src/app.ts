/**
 * buildApp(deps, parts) -> the Express application. No globals: everything the
 * routes need arrives in `deps` and, for what several components are wired with
 * (registries), in `parts`, built by the composition root (composition.ts's
 * buildInstance), which is the only caller: the worker and the routes of an
 * instance share them, and tests build as many independent instances as they like.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { sql } from 'kysely';
import { pinoHttp } from 'pino-http';
import { donationsOpenApi, donationsRouter } from './donations/donations.routes.js';
import { fundAdminOpenApi, fundAdminRouter } from './fighting-fund/fund-admin.routes.js';
import { fundFiguresRouter, fundOpenApi, fundRouter } from './fighting-fund/fund.routes.js';
import { assetsOpenApi, assetsRouter } from './lib/assets.routes.js';
import type { AttachmentKinds } from './email/attachments.js';
import { outboxPagesRouter } from './email/outbox-pages.routes.js';
import { errorHandler, notFoundHandler } from './lib/http.js';
import { rejectUnreadablePathAndQuery, rejectUnstorableBody } from './lib/input-guard.js';
import { createMetrics, httpMetrics } from './lib/metrics.js';
import { metricsOpenApi, metricsRouter } from './observability/metrics.routes.js';
import { renderPage } from './lib/pages.js';
import { buildOpenApiDocument, errorResponses, type ZodOpenApiPathsObject } from './lib/openapi.js';
import { peopleAdminOpenApi, peopleAdminRouter } from './admin/people-admin.routes.js';
import { fundDeskOpenApi, fundDeskRouter } from './admin/fund-desk.routes.js';
import { reconciliationOpenApi, reconciliationRouter } from './admin/reconciliation.routes.js';
import type { EventReplayer } from './payments/replay-stripe-events.js';
import { acknowledgementsPageOpenApi, acknowledgementsPageRouter } from './fighting-fund/acknowledgements-page.js';
import { membersDeskOpenApi, membersDeskRouter } from './admin/members-desk.routes.js';
import { accountOpenApi, accountRouter } from './members/account.routes.js';
import type { AccountContributor } from './members/account.service.js';
import { authOpenApi, authRouter } from './members/auth.routes.js';
import { csrfProtection } from './members/csrf.js';
import type { AppDeps } from './deps.js';
import { redactSecretsInUrl } from './members/session.service.js';
import type { CheckoutReturns } from './payments/checkout-returns.js';
import { checkoutPagesOpenApi, checkoutPagesRouter } from './payments/checkout.routes.js';
import { stripeApiVersionReport } from './payments/stripe-event-checks.js';
import { webhookOpenApi, webhookRouter } from './payments/webhooks.routes.js';
import { sharesOpenApi, sharesRouter } from './shares/shares.routes.js';
import { supportersOpenApi, supportersRouter } from './supporters/supporters.routes.js';

const healthOpenApi: ZodOpenApiPathsObject = {
  '/healthz': { get: { summary: 'The process is up', responses: { '200': { description: 'Up' } } } },
  '/readyz': {
    get: { summary: 'The database answers', responses: { '200': { description: 'Ready' }, ...errorResponses(503) } },
  },
};

/** What the routes are wired with beyond AppDeps: one instance's registries, shared with its job worker. */
export interface AppParts {
  /** What other components add to a person's account (GET /api/me, the export, erasure, /account). */
  accountContributors: readonly AccountContributor[];
  /** What the page Stripe Checkout returns to says, by purpose. */
  checkoutReturns: CheckoutReturns;
  /** Reconciliation's repair: records and applies missed events with the worker's appliers and handlers. */
  eventReplayer: EventReplayer;
  /** What /sandbox/emails can draw, as the send job draws it. */
  attachmentKinds: AttachmentKinds;
}

export function buildApp(deps: AppDeps, parts: AppParts): Express {
  const { config, db, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  // TRUST_PROXY (default none): otherwise any client could choose its address for the per-IP limits.
  app.set('trust proxy', config.trustProxy);
  app.set('json spaces', 0);
  const metrics = deps.metrics ?? createMetrics();
  // First, so every answer is counted and timed, the cached fund figures and webhooks included.
  app.use(httpMetrics(metrics));
  // A malformed escape or a NUL in the address is the client's mistake (400), whichever route it was meant for.
  app.use(rejectUnreadablePathAndQuery);

  // The fund's figures, asked for by every page of the newspaper: served from an in-process
  // cache ahead of the request log and helmet (see fund.routes.ts), like the health checks.
  app.use(fundFiguresRouter(deps));

  // Stripe's webhook deliveries, also ahead of the request log and helmet: the route logs each
  // delivery itself (event id, outcome), and a burst of them must be recorded fast. Before any
  // JSON body parser too: the signature covers the raw bytes.
  app.use(webhookRouter(deps));

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
      // A sign-in link's token in a log line would let a log reader sign in as its owner.
      serializers: {
        req: (req: { url?: string; query?: unknown }) => {
          req.url = redactSecretsInUrl(req.url);
          if (req.query && typeof req.query === 'object' && 'token' in req.query) req.query = { ...req.query, token: '[redacted]' };
          return req;
        },
      },
    }),
  );
  // HTTPS-only headers only when the service is served over HTTPS: over plain http (development,
  // a phone on the LAN) upgrade-insecure-requests would send every form to an https:// that is not there.
  const https = config.publicUrl.startsWith('https:');
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // The widget is embedded in the newspaper's pages.
          frameAncestors: ['*'],
          // PUBLIC_URL's origin too: a form on a page reached through another address may redirect there.
          formAction: ["'self'", new URL(config.publicUrl).origin, 'https://checkout.stripe.com'],
          upgradeInsecureRequests: https ? [] : null,
        },
      },
      strictTransportSecurity: https,
      // Lets the widget be framed anywhere; every other page keeps X-Frame-Options off too,
      // and relies on frame-ancestors above.
      frameguard: false,
      // Not helmet's no-referrer: with it, browsers send `Origin: null` on our own form posts,
      // and the same-origin check (members/csrf.ts) would refuse them. Other sites still get nothing.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await sql`select 1`.execute(db);
      // Events signed for another Stripe API version than the pinned one: the webhook endpoint needs setting.
      res.json({ status: 'ready', details: { stripeApiVersion: stripeApiVersionReport(deps) } });
    } catch {
      res.status(503).json({ error: { code: 'database_unavailable', message: 'The database does not answer.' } });
    }
  });

  // Components mount their routers here (the webhook route is mounted first, above).
  const openApiPaths: ZodOpenApiPathsObject[] = [healthOpenApi];
  openApiPaths.push(webhookOpenApi);
  app.use(metricsRouter(deps, metrics));
  openApiPaths.push(metricsOpenApi);
  // The sandbox parses its own (form-encoded, Stripe-style) bodies.
  // The outbox, readable in the browser while emails are not sent (development only).
  if (!config.mail.smtpUrl && config.env !== 'production') app.use(outboxPagesRouter(deps, parts.attachmentKinds));
  if (deps.sandbox && config.stripe.sandbox) app.use('/sandbox', deps.sandbox.router);

  app.use(express.json({ limit: '100kb' }));
  app.use(express.urlencoded({ extended: false, limit: '100kb' }));
  app.use(rejectUnstorableBody);
  // Needs the parsed body (a form's _csrf field); webhooks and the sandbox are mounted above it.
  app.use(csrfProtection(deps));

  // Each component's router with the description of its routes, so neither is added without the other.
  const components: [Router, ZodOpenApiPathsObject][] = [
    [authRouter(deps), authOpenApi],
    [accountRouter(deps, parts.accountContributors), accountOpenApi],
    [peopleAdminRouter(deps), peopleAdminOpenApi],
    [fundRouter(deps), fundOpenApi],
    [fundAdminRouter(deps), fundAdminOpenApi],
    [fundDeskRouter(deps), fundDeskOpenApi],
    // Repair replays missed events through the webhook's own inbox.
    [reconciliationRouter(deps, parts.eventReplayer), reconciliationOpenApi],
    [acknowledgementsPageRouter(deps), acknowledgementsPageOpenApi],
    [membersDeskRouter(deps), membersDeskOpenApi],
    [donationsRouter(deps), donationsOpenApi],
    [checkoutPagesRouter(deps, parts.checkoutReturns), checkoutPagesOpenApi],
    [sharesRouter(deps), sharesOpenApi],
    [supportersRouter(deps), supportersOpenApi],
    [assetsRouter(), assetsOpenApi],
  ];
  for (const [router, paths] of components) {
    app.use(router);
    openApiPaths.push(paths);
  }

  let openApiDocument: unknown;
  app.get('/api/openapi.json', (_req, res) => {
    openApiDocument ??= buildOpenApiDocument(openApiPaths, config.publicUrl);
    res.json(openApiDocument);
  });

  // A person's browser following a dead link gets a page; API clients get the contract's JSON.
  app.use(async (req, res, next) => {
    if (req.method !== 'GET' || req.path.startsWith('/api/') || req.accepts(['json', 'html']) !== 'html') return next();
    await renderPage(deps, res, 'not-found', { title: 'Page not found' }, 404);
  });
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
