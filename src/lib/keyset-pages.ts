/**
 * Every row of a keyset-paginated query, a page at a time: `readPage(after, limit)` reads
 * up to `limit` rows after the cursor (null for the first page), and the last row of a
 * full page gives the next cursor. Rows are yielded as they are read, so an export holds
 * one page in memory whatever the total.
 */
export async function* rowsByPage<Row, Cursor>(
  readPage: (after: Cursor | null, limit: number) => Promise<Row[]>,
  cursorOf: (row: Row) => Cursor,
  pageSize = 1000,
): AsyncGenerator<Row> {
  let after: Cursor | null = null;
  for (;;) {
    const page = await readPage(after, pageSize);
    yield* page;
    if (page.length < pageSize) return;
    after = cursorOf(page[page.length - 1]!);
  }
}
