/**
 * The HTTP surface as OpenAPI 3.1, generated from the same zod schemas the
 * routes validate with. Each component exports a `ZodOpenApiPathsObject`
 * describing its routes; app.ts merges them here.
 */
import { z } from 'zod';
import { createDocument, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';

export type { ZodOpenApiPathsObject };

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable snake_case code' }),
      message: z.string().meta({ description: 'For people' }),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

const errorDescriptions: Record<number, string> = {
  400: 'Malformed request',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  422: 'Breaks a rule',
  429: 'Too many requests',
  502: 'The payment provider did not answer',
  503: 'Not ready',
};

/** The error responses of an operation, all with the contract's error body. */
export function errorResponses(...statuses: number[]): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    statuses.map((s) => [String(s), { description: errorDescriptions[s] ?? 'Error', content: { 'application/json': { schema: errorBody } } }]),
  );
}

export function buildOpenApiDocument(paths: ZodOpenApiPathsObject[], publicUrl: string) {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'reader-coop',
      version: '1.0.0',
      description: 'Shares, supporters and the fighting fund of a reader-owned newspaper co-operative. Amounts are integers in minor units (pence).',
    },
    servers: [{ url: publicUrl }],
    paths: mergePaths(paths),
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'session', description: 'Set by POST /auth/callback' },
        stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
      },
    },
  });
}

/** Merges the components' paths; two components may describe different methods of one path (GET and POST /donate). */
function mergePaths(paths: ZodOpenApiPathsObject[]): ZodOpenApiPathsObject {
  const merged: ZodOpenApiPathsObject = {};
  for (const part of paths) {
    for (const [path, item] of Object.entries(part)) merged[path] = { ...merged[path], ...item };
  }
  return merged;
}
