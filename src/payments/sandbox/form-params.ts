/**
 * Stripe's request encoding, read back: `line_items[0][price_data][unit_amount]=500`
 * becomes `{ line_items: [{ price_data: { unit_amount: '500' } }] }`. Values stay
 * strings, as on the wire; the API routes convert what they need.
 */
import { invalid, missing } from './sandbox-objects.js';

export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

/** Decodes a body or query that is already split into flat `key -> value` pairs. */
export function decodeStripeParams(flat: Iterable<[string, string]>): FormObject {
  const root: FormObject = {};
  for (const [key, value] of flat) {
    const path = splitKey(key);
    if (!path) continue;
    let node: FormObject | FormValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const part = path[i]!;
      const last = i === path.length - 1;
      const container = node as Record<string, FormValue>;
      if (last) {
        container[part] = value;
        break;
      }
      const nextIsIndex = /^\d*$/.test(path[i + 1]!);
      let child: FormValue | undefined = container[part];
      if (child === undefined || typeof child === 'string') {
        child = nextIsIndex ? [] : {};
        container[part] = child;
      }
      node = child;
      if (Array.isArray(node) && path[i + 1] === '') path[i + 1] = String(node.length);
    }
  }
  return compactArrays(root) as FormObject;
}

/** `a[b][0]` -> ['a', 'b', '0']; null for a key that is not of that shape. */
function splitKey(key: string): string[] | null {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) return null;
  const parts = [match[1]!];
  for (const m of match[2]!.matchAll(/\[([^[\]]*)\]/g)) parts.push(m[1]!);
  // Guards the decoded object against prototype pollution.
  if (parts.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) return null;
  return parts;
}

function compactArrays(value: FormValue): FormValue {
  if (typeof value === 'string') return value;
  // flat skips the holes that an index like a[5] leaves in a sparse array.
  if (Array.isArray(value)) return value.flat(0).map(compactArrays);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compactArrays(v)]));
}

/** The flat pairs of an URL-encoded body or query string. */
export function flatPairs(text: string): [string, string][] {
  return [...new URLSearchParams(text)];
}

// ---- parameter checks, answered as Stripe answers them ---------------------------

export function str(value: FormValue | undefined, param: string): string {
  if (typeof value !== 'string' || value === '') throw missing(param);
  return value;
}
export function optionalStr(value: FormValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
export function int(value: FormValue | undefined, param: string, min = 0): number {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) throw invalid(param, `Invalid integer: ${typeof value === 'string' ? value : '(missing)'}`, 'parameter_invalid_integer');
  const n = Number(value);
  if (n < min) throw invalid(param, `This value must be greater than or equal to ${min}.`, 'parameter_invalid_integer');
  return n;
}
export function asArray(value: FormValue | undefined, param: string): FormValue[] {
  if (value === undefined) throw missing(param);
  if (!Array.isArray(value)) throw invalid(param, 'Invalid array');
  return value;
}
export function asObject(value: FormValue | undefined, param: string): FormObject {
  if (value === undefined) throw missing(param);
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(param, 'Invalid object');
  return value;
}
/** Stripe's metadata rules: up to 50 keys of 40 characters, values of 500. */
export function stringMap(value: FormValue | undefined, param: string): Record<string, string> {
  if (value === undefined || value === '') return {};
  const obj = asObject(value, param);
  const entries = Object.entries(obj);
  if (entries.length > 50) throw invalid(param, 'Metadata can have up to 50 keys.');
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw invalid(`${param}[${k}]`, 'Metadata values must be strings.');
    if (k.length > 40 || v.length > 500) throw invalid(`${param}[${k}]`, 'Metadata keys are at most 40 characters and values at most 500.');
    out[k] = v;
  }
  return out;
}
