/**
 * Stripe's list endpoints, as the sandbox answers them: newest first, filtered by
 * `created[gte|gt|lte|lt]` (Unix seconds), cursor-paged with `starting_after` and
 * `limit` (1..100), answering `{ object: 'list', data, has_more, url }`.
 */
import type { FormValue } from './form-params.js';
import { SandboxApiError } from './sandbox-objects.js';

export interface CreatedRange {
  gte?: number;
  gt?: number;
  lte?: number;
  lt?: number;
}

export interface ListQuery {
  created?: CreatedRange | undefined;
  limit: number;
  startingAfter?: string | undefined;
}

/** Reads `created` as Stripe takes it: a bare timestamp, or `created[gte]=..` and friends. */
export function createdRange(value: FormValue | undefined): CreatedRange | undefined {
  if (value === undefined) return undefined;
  const seconds = (v: FormValue | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !/^\d{1,12}$/.test(v)) {
      throw new SandboxApiError(400, 'invalid_request_error', `Invalid timestamp for ${name}: must be an integer Unix timestamp.`, 'parameter_invalid_integer', name);
    }
    return Number(v);
  };
  if (typeof value === 'string') {
    const exact = seconds(value, 'created')!;
    return { gte: exact, lte: exact };
  }
  if (Array.isArray(value)) throw new SandboxApiError(400, 'invalid_request_error', 'Invalid created.', 'parameter_invalid', 'created');
  const range: CreatedRange = {};
  for (const key of Object.keys(value)) {
    if (key !== 'gte' && key !== 'gt' && key !== 'lte' && key !== 'lt') {
      throw new SandboxApiError(400, 'invalid_request_error', `Received unknown parameter: created[${key}]`, 'parameter_unknown', `created[${key}]`);
    }
    range[key] = seconds(value[key], `created[${key}]`);
  }
  return range;
}

export function listObjects<T extends { id: string; created: number }>(objects: Iterable<T>, query: ListQuery, url: string, kind: string) {
  const c = query.created ?? {};
  // Insertion order is creation order; newest first, ties kept newest first too.
  const all = [...objects]
    .reverse()
    .filter(
      (o) =>
        (c.gte === undefined || o.created >= c.gte) &&
        (c.gt === undefined || o.created > c.gt) &&
        (c.lte === undefined || o.created <= c.lte) &&
        (c.lt === undefined || o.created < c.lt),
    )
    .sort((a, b) => b.created - a.created);
  let start = 0;
  if (query.startingAfter) {
    const i = all.findIndex((o) => o.id === query.startingAfter);
    if (i < 0) throw new SandboxApiError(404, 'invalid_request_error', `No such ${kind}: '${query.startingAfter}'`, 'resource_missing', 'starting_after');
    start = i + 1;
  }
  const data = all.slice(start, start + query.limit);
  return { object: 'list' as const, data, has_more: start + query.limit < all.length, url };
}
