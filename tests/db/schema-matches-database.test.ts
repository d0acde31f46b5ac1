/**
 * src/db/schema.ts is written by hand: this checks it against the database the
 * migrations make (tables, columns, nullability, rough types), so a migration
 * without its schema.ts change, or a typo in either, fails here and not at run time.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/test-app.js';
import { readDeclaredSchema, type RoughKind } from './schema-types.js';

interface DatabaseColumn {
  table_name: string;
  column_name: string;
  is_nullable: 'YES' | 'NO';
  data_type: string;
  udt_name: string;
}

/** Tables that are the migrator's own, not the application's. */
const notOurs = new Set(['kysely_migration', 'kysely_migration_lock']);

function roughKind(column: DatabaseColumn): RoughKind | `unmapped ${string}` {
  switch (column.data_type) {
    case 'text':
    case 'character varying':
    case 'character':
    case 'uuid':
    case 'date':
    case 'citext':
      return 'string';
    case 'smallint':
    case 'integer':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'timestamp with time zone':
    case 'timestamp without time zone':
      return 'timestamp';
    case 'ARRAY':
      return 'array';
    case 'json':
    case 'jsonb':
      return 'json';
    case 'USER-DEFINED':
      return column.udt_name === 'citext' ? 'string' : `unmapped ${column.udt_name}`;
    default:
      return `unmapped ${column.data_type}`;
  }
}

describe('schema.ts and the migrated database', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let columns: DatabaseColumn[];
  const declared = readDeclaredSchema();

  beforeAll(async () => {
    database = await createTestDatabase();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const result = await client.query<DatabaseColumn>(
        `select c.table_name, c.column_name, c.is_nullable, c.data_type, c.udt_name
           from information_schema.columns c
           join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
          where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
          order by c.table_name, c.ordinal_position`,
      );
      columns = result.rows.filter((c) => !notOurs.has(c.table_name));
    } finally {
      await client.end();
    }
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('when the migrations have run, then schema.ts names exactly their tables', () => {
    const inDatabase = [...new Set(columns.map((c) => c.table_name))].sort();
    expect([...declared.keys()].sort()).toEqual(inDatabase);
  });

  it('when the migrations have run, then each table has exactly the columns schema.ts declares, with their nullability and rough type', () => {
    const problems: string[] = [];
    for (const [table, declaredColumns] of declared) {
      const actual = columns.filter((c) => c.table_name === table);
      for (const column of actual) {
        const d = declaredColumns.get(column.column_name);
        const where = `${table}.${column.column_name}`;
        if (!d) {
          problems.push(`${where} is in the database but not in schema.ts`);
          continue;
        }
        const kind = roughKind(column);
        // A jsonb column may hold an array (emails.attachments).
        if (kind !== d.kind && !(kind === 'json' && d.kind === 'array')) problems.push(`${where} is ${column.data_type} (${kind}) in the database but ${d.kind} in schema.ts`);
        const nullable = column.is_nullable === 'YES';
        if (d.nullable !== undefined && d.nullable !== nullable) {
          problems.push(`${where} is ${nullable ? 'nullable' : 'not null'} in the database but ${d.nullable ? 'nullable' : 'not null'} in schema.ts`);
        }
      }
      for (const name of declaredColumns.keys()) {
        if (!actual.some((c) => c.column_name === name)) problems.push(`${table}.${name} is in schema.ts but not in the database`);
      }
    }
    expect(problems).toEqual([]);
  });
});
