/** Stripe fields that hold an id, or the object itself when it was expanded: the id either way. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}
