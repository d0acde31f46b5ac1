/** The site's own static files (templates/assets): its one script and the favicon. */
import express, { Router } from 'express';
import path from 'node:path';
import type { ZodOpenApiPathsObject } from './openapi.js';
import { templatesDir } from './templates.js';

export function assetsRouter(): Router {
  const router = Router();
  const dir = path.join(templatesDir, 'assets');
  const options = { maxAge: '1h' } as const;
  router.get('/favicon.svg', (_req, res) => res.sendFile('favicon.svg', { root: dir, ...options }));
  // Browsers ask for /favicon.ico whatever the page says; modern ones take an SVG.
  router.get('/favicon.ico', (_req, res) => res.type('image/svg+xml').sendFile('favicon.svg', { root: dir, ...options }));
  router.use('/assets', express.static(dir, { ...options, index: false, redirect: false }));
  return router;
}

const icon = { get: { summary: "The site's icon (SVG)", responses: { '200': { description: 'image/svg+xml' } } } };
export const assetsOpenApi: ZodOpenApiPathsObject = { '/favicon.svg': icon, '/favicon.ico': icon };
