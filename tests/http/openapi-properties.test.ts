/**
 * Property-based tests over every operation of GET /api/openapi.json (the
 * document, not a list: a route added tomorrow is covered tomorrow; the OpenAPI
 * test keeps every served route in the document). For each operation, as
 * nobody, as a signed-in reader and as an admin, fast-check generates path
 * parameters, query strings, bodies and headers, half of them near the
 * documented shape and half hostile: wrong types, huge and negative numbers,
 * control characters, NUL, lone surrogates, malformed escapes, long odd Unicode,
 * prototype-pollution keys. Whatever it sends, the answer is a success or a 4xx
 * (never a 5xx, never a dropped connection), a JSON 4xx is the contract's error
 * body, and a refused request leaves every table of the database as it was.
 *
 * Bounded (RUNS_PER_OPERATION) to keep `npm test` within a minute more; on a
 * failure fast-check prints the seed and the shrunk request: replay with
 * FC_SEED=<seed> (and FC_RUNS to search longer).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from '../../src/db/schema.js';
import { signSessionToken } from '../../src/members/session.service.js';
import { sessionHeaders, signInAs } from '../support/auth.js';
import { databaseChecksum } from '../support/table-counts.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const RUNS_PER_OPERATION = Number(process.env.FC_RUNS ?? 10);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  example?: unknown;
};

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: JsonSchema;
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  bodies: { contentType: string; schema: JsonSchema }[];
}

type Identity = 'anonymous' | 'reader' | 'admin';

interface GeneratedRequest {
  method: string;
  identity: Identity;
  path: string;
  query: string;
  contentType: string | undefined;
  body: string | undefined;
  headers: Record<string, string>;
}

// ---- hostile values ---------------------------------------------------------------

const loneSurrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b');
const controlText = fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), maxLength: 8 });
const oddUnicode = fc.constantFrom(
  'A\u0000B',
  '\u0000',
  '\u202eevil',
  'Z\u0338\u0301\u0302\u0303',
  '\ufeff\u200b\u200d',
  '𝕽𝖊𝖆𝖉𝖊𝖗',
  '👩‍👩‍👧‍👦'.repeat(50),
  'ß'.repeat(1000),
  '\uffff\ufffe',
  "'; drop table people; --",
  '{{ 7*7 }}<script>alert(1)</script>',
  '../../etc/passwd',
  '%ff%00',
  '__proto__',
  'constructor',
  'toString',
);
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  controlText,
  loneSurrogate,
  oddUnicode,
  fc.tuple(fc.string({ maxLength: 5 }), loneSurrogate, fc.string({ maxLength: 5 })).map((p) => p.join('')),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, -0, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 2 ** 64, 0.5, 1e-7, 99999999999999999999),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const pollutionKey = fc.constantFrom('__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty');

/** Any JSON value, odd ones favoured (deep nesting stays shallow enough for the 100 kB limit). */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileText,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), pollutionKey, loneSurrogate), tie('value'), { maxKeys: 4 }),
  ),
})).value;

// ---- values near the documented shape -------------------------------------------------

function resolve(doc: any, schema: JsonSchema | undefined, seen = 0): JsonSchema {
  if (!schema) return {};
  if (schema.$ref && seen < 10) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return resolve(doc, doc.components?.schemas?.[name], seen + 1);
  }
  return schema;
}

const plausibleDates = fc.constantFrom(
  '2026-11-20T10:00:00Z',
  '2026-12-01T00:00:00+01:00',
  '0000-01-01T00:00:00Z',
  '1901-03-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2026-02-30T00:00:00Z',
  '2026-11-20',
  '1980-05-17',
  '2099-12-31T23:59:59Z',
);

/** A value shaped like `schema`, sometimes right, often almost right, now and then anything. */
function nearValue(doc: any, raw: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(doc, raw);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives && alternatives.length > 0 && depth < 6) return fc.oneof(...alternatives.map((s) => nearValue(doc, s, depth + 1)));
  if (schema.allOf && schema.allOf.length > 0 && depth < 6) return nearValue(doc, schema.allOf[0], depth + 1);
  let shaped: fc.Arbitrary<unknown>;
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (schema.enum) shaped = fc.constantFrom(...schema.enum);
  else if (schema.const !== undefined) shaped = fc.constant(schema.const);
  else if (type === 'object' || schema.properties) {
    const props = Object.entries(schema.properties ?? {});
    shaped = fc
      .tuple(
        fc.tuple(...props.map(([name, s]) => fc.option(nearValue(doc, s, depth + 1), { freq: 4, nil: undefined }).map((v) => [name, v] as const))),
        fc.array(fc.tuple(fc.oneof(pollutionKey, fc.string({ maxLength: 6 })), hostileJson), { maxLength: 2 }),
      )
      .map(([known, extra]) => {
        const object: Record<string, unknown> = {};
        // defineProperty: a `__proto__` key is an own property, as JSON.parse makes it.
        for (const [k, v] of [...known, ...extra]) if (v !== undefined) Object.defineProperty(object, k, { value: v, enumerable: true, configurable: true, writable: true });
        return object;
      });
  } else if (type === 'array') shaped = fc.array(nearValue(doc, schema.items, depth + 1), { maxLength: 3 });
  else if (type === 'integer' || type === 'number') {
    const lo = schema.minimum ?? -10;
    const hi = Math.min(schema.maximum ?? 100_000, Number.MAX_SAFE_INTEGER);
    shaped = fc.oneof(fc.integer({ min: Math.max(Math.ceil(lo), Number.MIN_SAFE_INTEGER), max: Math.max(Math.ceil(lo), Math.floor(hi)) }), hostileNumber);
  } else if (type === 'boolean') shaped = fc.boolean();
  else if (type === 'string') {
    const options: fc.Arbitrary<unknown>[] = [hostileText];
    if (schema.format === 'email') options.push(fc.emailAddress(), fc.tuple(fc.emailAddress(), hostileText).map(([e, t]) => `${t}${e}`));
    if (schema.format === 'date-time' || schema.format === 'date') options.push(plausibleDates);
    if (schema.format === 'uuid') options.push(fc.uuid());
    if (schema.pattern) {
      try {
        options.push(fc.stringMatching(new RegExp(schema.pattern)));
      } catch {
        // a pattern JavaScript cannot read: the hostile strings stand in
      }
    }
    if (typeof schema.example === 'string') options.push(fc.constant(schema.example));
    shaped = fc.oneof(...options);
  } else shaped = hostileJson;
  // Now and then a value of the wrong type altogether.
  return fc.oneof({ arbitrary: shaped, weight: 4 }, { arbitrary: hostileJson, weight: 1 });
}

// ---- encoding ---------------------------------------------------------------------

/** JSON text of a value, or `otherwise` for what JSON cannot say (undefined). */
function jsonOf(value: unknown, otherwise: string): string {
  // JSON.stringify(undefined) is undefined, whatever its type says.
  return value === undefined || typeof value === 'function' ? otherwise : JSON.stringify(value);
}

/** Percent-encodes text; text that is not Unicode (a lone surrogate) goes as its raw, malformed UTF-8 escape. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return Array.from(text).map((c) => (c.length === 1 && c >= '\ud800' && c <= '\udfff' ? '%ED%A0%80' : encodeURIComponent(c))).join('');
  }
}

const rawEscape = fc.constantFrom('%ff', '%c0%ae', '%E0%A4%A', '%', '%zz', '%00', '%2e%2e%2f', '%ED%A0%80');
const pathValue = (doc: any, schema: JsonSchema | undefined) =>
  fc.oneof(
    { arbitrary: nearValue(doc, schema).map((v) => encode(typeof v === 'string' ? v : jsonOf(v, ''))), weight: 3 },
    { arbitrary: rawEscape, weight: 1 },
    { arbitrary: fc.constantFrom('1', '0', '-1', '99999999999999999999999', 'null', '__proto__', '2026-11', 'x'.repeat(300)), weight: 1 },
  ).map((s) => (s === '' ? '%20' : s));

function queryArbitrary(doc: any, params: Parameter[]): fc.Arbitrary<string> {
  const known = params.filter((p) => p.in === 'query');
  const pair = fc.oneof(
    ...(known.length > 0 ? [fc.constantFrom(...known).chain((p) => nearValue(doc, p.schema).map((v) => [p.name, v] as const))] : []),
    fc.tuple(fc.oneof(pollutionKey, fc.constantFrom('campaign', 'limit', 'query', 'status', 'dryRun', 'token', 'from', 'to', 'a[b]', 'a[]')), hostileJson),
  );
  return fc.array(fc.tuple(pair, fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: rawEscape.map(() => true), weight: 1 }), rawEscape), { maxLength: 4 }).map((pairs) =>
    pairs
      .map(([[k, v], raw, escape]) => `${encode(k)}=${raw ? escape : encode(typeof v === 'string' ? v : jsonOf(v, ''))}`)
      .join('&'),
  );
}

function formEncode(value: unknown): string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return `value=${encode(jsonOf(value, ''))}`;
  return Object.entries(value)
    .map(([k, v]) => `${encode(k)}=${encode(typeof v === 'string' ? v : jsonOf(v, ''))}`)
    .join('&');
}

/** JSON text, from JSON.stringify (which escapes lone surrogates) or hand-broken. */
function jsonText(value: unknown): fc.Arbitrary<string> {
  const text = jsonOf(value, 'null');
  return fc.oneof(
    { arbitrary: fc.constant(text), weight: 6 },
    { arbitrary: fc.constantFrom(text.slice(0, -1), `${text}}`, text.replace(/"/, "'"), '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[', '{"amount":1e400}', '{"a":"\\u0000"}', '{"a":"\\ud800"}', ''), weight: 1 },
  );
}

function requestArbitrary(doc: any, op: Operation, origin: string): fc.Arbitrary<GeneratedRequest> {
  const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const paramSchema = (name: string) => op.parameters.find((p) => p.in === 'path' && p.name === name)?.schema;
  const pathArb = fc.tuple(...pathParams.map((name) => pathValue(doc, paramSchema(name)))).map((values) => {
    let i = 0;
    return op.path.replace(/\{(\w+)\}/g, () => values[i++]!);
  });
  const documented = op.bodies.length > 0 ? op.bodies : [{ contentType: 'application/json', schema: {} as JsonSchema }];
  const bodyArb = fc.constantFrom(...documented).chain(({ contentType, schema }) =>
    fc.tuple(
      fc.oneof(
        { arbitrary: fc.constant(contentType), weight: 5 },
        { arbitrary: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'text/csv', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'application/ld+json', ';;;'), weight: 1 },
      ),
      nearValue(doc, schema),
    ).chain(([type, value]) =>
      type.includes('json') ? jsonText(value).map((text) => [type, text] as const) : fc.constant([type, type.includes('urlencoded') ? formEncode(value) : typeof value === 'string' ? value : jsonOf(value, '')] as const),
    ),
  );
  const latin1Text = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 60 });
  const headersArb = fc.record(
    {
      accept: fc.constantFrom('application/json', 'text/html', '*/*', 'text/plain', 'application/xml', 'text/html;q=0.1, application/json;q=0.2'),
      origin: fc.constantFrom(origin, origin, origin, 'null', 'https://evil.example'),
      'x-request-id': latin1Text,
      'x-forwarded-for': fc.constantFrom('203.0.113.9', '::1, 10.0.0.1', 'garbage', ''),
      'accept-language': latin1Text,
      'stripe-signature': fc.oneof(latin1Text, fc.constant('t=1,v1=00')),
      // Sent by an anonymous caller only (a signed-in one carries its session): forged and broken sessions.
      cookie: fc.oneof(
        latin1Text.map((t) => `session=${encodeURIComponent(t)}`),
        fc.constantFrom('session=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'session=a.b.c', 'session=; session=x', '__proto__=1; constructor=2'),
      ),
    },
    { requiredKeys: ['accept'] },
  );
  return fc.record({
    identity: fc.constantFrom<Identity>('anonymous', 'reader', 'admin'),
    path: pathArb,
    query: queryArbitrary(doc, op.parameters),
    body: fc.option(bodyArb, { freq: 6 }),
    headers: headersArb,
  }).map(({ identity, path, query, body, headers }) => ({
    method: op.method.toUpperCase(),
    identity,
    path,
    query,
    contentType: body?.[0],
    body: op.method === 'get' || op.method === 'head' ? undefined : body?.[1],
    headers: Object.fromEntries(Object.entries(headers)),
  }));
}

function operationsOf(doc: any): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths ?? {})) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method];
      if (!op) continue;
      const content = op.requestBody?.content ?? {};
      operations.push({
        method,
        path,
        parameters: [...(item.parameters ?? []), ...(op.parameters ?? [])],
        bodies: Object.entries<any>(content).map(([contentType, media]) => ({ contentType, schema: media?.schema ?? {} })),
      });
    }
  }
  return operations;
}

// ---- the property ---------------------------------------------------------------------

const ERROR_CODE = /^[a-z][a-z0-9_]*$/;

describe('every operation of the OpenAPI document, with generated input', () => {
  let app: TestApp;
  let doc: any;
  const people: Partial<Record<Identity, Person>> = {};
  beforeAll(async () => {
    app = await startTestApp({ now: '2026-11-20T10:00:00Z' });
    doc = (await app.request('GET', '/api/openapi.json')).body;
    // The month's campaign is made on first use (by any request, refused or not): made here, before the comparisons.
    expect((await app.request('GET', '/api/fighting-fund')).status).toBe(200);
    for (const [identity, roles] of [['reader', []], ['admin', ['admin']]] as const) {
      const { personId } = await signInAs(app, { email: `${identity}-properties@example.org`, roles: [...roles] });
      people[identity] = await app.db.selectFrom('people').selectAll().where('id', '=', personId).executeTakeFirstOrThrow();
    }
  });
  afterAll(() => app.close());

  /** A fresh session each time: a generated sign-out or erasure must not quietly make later runs anonymous. */
  async function headersFor(identity: Identity): Promise<Record<string, string>> {
    const person = people[identity];
    if (!person) return {};
    const { token } = await signSessionToken(app.deps, person);
    return sessionHeaders(app, token);
  }

  async function send(request: GeneratedRequest) {
    const headers: Record<string, string> = { ...request.headers, ...(await headersFor(request.identity)) };
    if (request.headers.origin !== undefined) headers.origin = request.headers.origin;
    if (request.contentType !== undefined && request.body !== undefined) headers['content-type'] = request.contentType;
    const url = `${app.url}${request.path}${request.query ? `?${request.query}` : ''}`;
    const res = await fetch(url, { method: request.method, headers, body: request.body, redirect: 'manual' });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text };
  }

  it('never answers 5xx, answers a 4xx with the contract error body, and changes nothing it refused', async () => {
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(20);
    const origin = new URL(app.config.publicUrl).origin;
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(requestArbitrary(doc, op, origin), async (request) => {
          const before = await databaseChecksum(app);
          const res = await send(request);
          const label = `${op.method.toUpperCase()} ${op.path} -> ${res.status} ${res.text.slice(0, 300)}`;
          expect(res.status, label).toBeGreaterThanOrEqual(200);
          expect(res.status, label).toBeLessThan(500);
          // 431: Node's own HTTP parser refuses headers (the URL included) over 16 kB before the app sees them.
          if (res.status >= 400 && res.status !== 431) {
            if (res.type.includes('json')) {
              const body = JSON.parse(res.text);
              expect(Object.keys(body), label).toEqual(['error']);
              expect(body.error.code, label).toMatch(ERROR_CODE);
              expect(typeof body.error.message, label).toBe('string');
            } else {
              expect(res.type, label).toContain('text/html');
            }
            expect(await databaseChecksum(app), `${label}: a refused request changed the database`).toEqual(before);
          }
        }),
        { numRuns: RUNS_PER_OPERATION, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: false },
      );
    }
  }, 240_000);
});
