/**
 * Refuses, once for every route, input that PostgreSQL cannot store or that no
 * person could have meant (SPEC 3: never a 500 for anything a client sent):
 * a malformed percent escape in the path, and text holding a NUL character
 * (refused by `text` and `jsonb` columns) or a lone UTF-16 surrogate (not
 * Unicode: the driver would silently store U+FFFD instead). The check walks the
 * path, the query and the parsed body before any route sees them, and
 * `parseInput` repeats it for whatever a router parses itself, so no new
 * field or route can bring the class back.
 */
import type { RequestHandler } from 'express';
import { AppError } from './errors.js';

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `text` can be stored as PostgreSQL text (no NUL, well-formed UTF-16). */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** The paths (`a.b.0`) of every string, key included, that cannot be stored; deep structures stop at `maxDepth`. */
export function findUnstorableText(value: unknown, path: string[] = [], found: string[] = [], depth = 0): string[] {
  if (found.length >= 20) return found;
  if (typeof value === 'string') {
    if (!isStorableText(value)) found.push(path.join('.'));
  } else if (value && typeof value === 'object' && depth < 32) {
    for (const [key, inner] of Object.entries(value)) {
      if (!isStorableText(key)) found.push([...path, '(key)'].join('.'));
      findUnstorableText(inner, [...path, key], found, depth + 1);
    }
  }
  return found;
}

/** Throws 400 `invalid_request` naming each field whose text cannot be stored. */
export function assertStorableText(value: unknown, where: 'body' | 'query' | 'path' | 'input' = 'input'): void {
  const found = findUnstorableText(value);
  if (found.length === 0) return;
  throw new AppError({
    code: 'invalid_request',
    status: 400,
    message: `${where === 'input' ? '' : `The ${where}: `}${found[0] || 'the text'} holds a character that is not allowed (a NUL or a broken Unicode character).`,
    details: found.map((p) => ({ path: p, message: 'holds a NUL or a lone surrogate character', code: 'invalid_characters' })),
  });
}

/**
 * First middleware of the app: 400 for a path with a malformed percent escape
 * (`%ff`, `%E0%A4%A`) or one decoding to a NUL, and for a query whose values
 * hold one, before any router decodes a path parameter.
 */
export const rejectUnreadablePathAndQuery: RequestHandler = (req, _res, next) => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(req.path);
  } catch {
    throw new AppError({
      code: 'invalid_request',
      status: 400,
      message: 'The address holds a malformed percent escape.',
      details: [{ path: 'path', message: 'malformed percent escape', code: 'malformed_escape' }],
    });
  }
  assertStorableText(decoded, 'path');
  assertStorableText(req.query, 'query');
  next();
};

/** After the body parsers: 400 when any text of the parsed body cannot be stored. */
export const rejectUnstorableBody: RequestHandler = (req, _res, next) => {
  assertStorableText(req.body, 'body');
  next();
};

const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/**
 * A copy of a JSON value whose strings (keys included) have each NUL and lone surrogate
 * replaced by U+FFFD: the same shape, so the same type (a key holding such a character is
 * not one any type names).
 */
export function replaceUnstorableText<T>(value: T): T {
  return replaced(value) as T;
}

function replaced(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(UNSTORABLE_ALL, '\ufffd');
  if (Array.isArray(value)) return value.map(replaced);
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      Object.defineProperty(copy, key.replace(UNSTORABLE_ALL, '\ufffd'), { value: replaced(inner), enumerable: true, configurable: true, writable: true });
    }
    return copy;
  }
  return value;
}
