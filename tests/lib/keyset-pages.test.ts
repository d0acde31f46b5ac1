/** rowsByPage: every row of a keyset-paginated read, once, in order, a page at a time. */
import { describe, expect, it } from 'vitest';
import { rowsByPage } from '../../src/lib/keyset-pages.js';

/** A table of the numbers 1..n read `limit` at a time after a cursor, remembering each read. */
function table(n: number) {
  const reads: (number | null)[] = [];
  const readPage = (after: number | null, limit: number) => {
    reads.push(after);
    return Promise.resolve(Array.from({ length: n }, (_, i) => i + 1).filter((x) => x > (after ?? 0)).slice(0, limit));
  };
  return { reads, readPage };
}

async function all<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe('reading rows by keyset pages', () => {
  it('when the rows end inside a page, then each row comes once in order and the short page is the last read', async () => {
    const t = table(7);
    expect(await all(rowsByPage(t.readPage, (x) => x, 3))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(t.reads).toEqual([null, 3, 6]);
  });

  it('when the rows fill the last page exactly, then one more (empty) page is read and nothing is repeated', async () => {
    const t = table(6);
    expect(await all(rowsByPage(t.readPage, (x) => x, 3))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.reads).toEqual([null, 3, 6]);
  });

  it('when there are no rows, then one read and nothing yielded', async () => {
    const t = table(0);
    expect(await all(rowsByPage(t.readPage, (x) => x, 3))).toEqual([]);
    expect(t.reads).toEqual([null]);
  });
});
