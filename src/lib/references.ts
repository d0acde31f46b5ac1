/**
 * Short references people can read out on the phone ("GIFT-7K3M-9QXA") instead of
 * a UUID or a Stripe id: the first 40 bits of the record's UUID in Crockford's
 * base32 (no I, L, O or U), so the same record always has the same reference and
 * an admin can find it from the id. Not unique by construction, but 40 bits make
 * a clash between two records of one kind vanishingly rare for a society's volumes.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type ReferenceKind = 'GIFT' | 'SHARES' | 'SUPPORT';

export function humanReference(kind: ReferenceKind, uuid: string): string {
  const hex = uuid.replaceAll('-', '').slice(0, 10);
  if (!/^[0-9a-fA-F]{10}$/.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  let bits = BigInt(`0x${hex}`);
  let code = '';
  for (let i = 0; i < 8; i++) {
    code = ALPHABET.charAt(Number(bits & 31n)) + code;
    bits >>= 5n;
  }
  return `${kind}-${code.slice(0, 4)}-${code.slice(4)}`;
}
