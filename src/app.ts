/**
 * buildApp(deps) -> the Express application. No globals: everything the routes
 * need arrives in `deps`, so tests build as many independent apps as they like.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { sql } from 'kysely';
import { pinoHttp } from 'pino-http';
import type Stripe from 'stripe';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Clock } from './lib/clock.js';
import { errorHandler, notFoundHandler } from './lib/http.js';
import type { Logger } from './lib/logger.js';
import { buildOpenApiDocument, type ZodOpenApiPathsObject } from './lib/openapi.js';

export interface AppDeps {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
  /** Talks to Stripe, or to the sandbox / a test server standing in for it (STRIPE_API_BASE). */
  stripe: Stripe;
  /** The secret webhook bodies are signed with (the sandbox's own when running without Stripe keys). */
  stripeWebhookSecret: string;
}

export function buildApp(deps: AppDeps): Express {
  const { config, db, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('json spaces', 0);

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // The widget is embedded in the newspaper's pages.
          frameAncestors: ['*'],
          formAction: ["'self'", 'https://checkout.stripe.com'],
        },
      },
      // Lets the widget be framed anywhere; every other page keeps X-Frame-Options off too,
      // and relies on frame-ancestors above.
      frameguard: false,
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await sql`select 1`.execute(db);
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ error: { code: 'database_unavailable', message: 'The database does not answer.' } });
    }
  });

  // Components mount their routers here (webhooks before any JSON body parser: they need the raw body).
  const openApiPaths: ZodOpenApiPathsObject[] = [];

  app.use(express.json({ limit: '100kb' }));
  app.use(express.urlencoded({ extended: false, limit: '100kb' }));

  let openApiDocument: unknown;
  app.get('/api/openapi.json', (_req, res) => {
    openApiDocument ??= buildOpenApiDocument(openApiPaths, config.publicUrl);
    res.json(openApiDocument);
  });

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
