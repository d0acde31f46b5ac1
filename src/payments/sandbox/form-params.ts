/**
 * Stripe's request encoding, read back: `line_items[0][price_data][unit_amount]=500`
 * becomes `{ line_items: [{ price_data: { unit_amount: '500' } }] }`. Values stay
 * strings, as on the wire; the API routes convert what they need.
 */
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
