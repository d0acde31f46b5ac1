/**
 * The OpenAPI document is generated from the route schemas; this keeps it
 * complete: every route the app serves (but the development-only sandbox)
 * must be described, with its method.
 */
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app.js';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every "METHOD /path" the app routes, with Express's :param written as OpenAPI's {param}. */
function servedRoutes(app: Express): string[] {
  const routes: string[] = [];
  const visit = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const method of Object.keys(layer.route.methods)) {
            if (method === '_all') continue;
            routes.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
          }
        }
      } else if (layer.handle?.stack) {
        visit(layer.handle.stack);
      }
    }
  };
  visit((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...new Set(routes)].sort();
}

describe('the OpenAPI description', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('describes every route the app serves, with its method', async () => {
    const document = (await app.request('GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const described = new Set(
      Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)),
    );
    // The development-only sandbox, the document itself and static scripts are not the API.
    const served = servedRoutes(app.instance.app).filter(
      (r) => !r.includes(' /sandbox') && r !== 'GET /api/openapi.json' && !r.endsWith('.js'),
    );
    expect(served.length).toBeGreaterThan(40);
    expect(served.filter((r) => !described.has(r))).toEqual([]);
  });
});
