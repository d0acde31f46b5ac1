/**
 * Every migration goes down and up again: against a fresh database, migrate to
 * the latest, undo the migrations one by one to nothing (nothing of ours is left),
 * then migrate up again to the very same schema.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { adminQuery, withDatabase } from '../../src/db/admin.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { createMigrator, migrateToLatest } from '../../src/db/migrator.js';

type SchemaSnapshot = Record<'columns' | 'constraints' | 'indexes' | 'triggers' | 'functions' | 'types' | 'sequences', string[]>;

/** Everything of ours in the public schema, as text, in a stable order. */
async function schemaSnapshot(url: string): Promise<SchemaSnapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const rows = async (text: string) => (await client.query<{ line: string }>(text)).rows.map((r) => r.line);
  try {
    return {
      columns: await rows(`
        select table_name || '.' || column_name || ' ' || data_type || '/' || udt_name || ' ' || is_nullable || ' default ' || coalesce(column_default, '-') as line
          from information_schema.columns
         where table_schema = 'public' and table_name not like 'kysely_migration%'
         order by 1`),
      constraints: await rows(`
        select c.conrelid::regclass || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) as line
          from pg_constraint c join pg_namespace n on n.oid = c.connamespace
         where n.nspname = 'public' and c.conrelid::regclass::text not like 'kysely_migration%'
         order by 1`),
      indexes: await rows(`select indexdef as line from pg_indexes where schemaname = 'public' and tablename not like 'kysely_migration%' order by 1`),
      triggers: await rows(`
        select t.tgrelid::regclass || ' ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text as line
          from pg_trigger t join pg_class r on r.oid = t.tgrelid join pg_namespace n on n.oid = r.relnamespace
         where n.nspname = 'public' and not t.tgisinternal
         order by 1`),
      // Functions and types an extension owns (pgcrypto's) are not ours.
      functions: await rows(`
        select p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid)) as line
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public' and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
         order by 1`),
      types: await rows(`
        select t.typname as line
          from pg_type t join pg_namespace n on n.oid = t.typnamespace
         where n.nspname = 'public' and t.typtype in ('e', 'd', 'c') and t.typrelid = 0
           and not exists (select 1 from pg_depend d where d.objid = t.oid and d.deptype = 'e')
         order by 1`),
      sequences: await rows(`select sequencename as line from pg_sequences where schemaname = 'public' order by 1`),
    };
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  const { serverUrl } = inject('database');
  const name = `reader_coop_migrations_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(serverUrl, name);
  let handle: DatabaseHandle | undefined;

  afterAll(async () => {
    await handle?.close();
    await adminQuery(serverUrl, `drop database if exists "${name}" with (force)`);
  });

  it('when every migration is undone one by one and then redone, then each step succeeds, nothing is left between, and the schema comes back the same', async () => {
    await adminQuery(serverUrl, `create database "${name}"`);
    handle = connectDatabase(url, { max: 2 });
    await migrateToLatest(handle.db, handle.pool);
    const latest = await schemaSnapshot(url);
    expect(latest.columns.length).toBeGreaterThan(0);

    const migrator = createMigrator(handle.db);
    const applied = (await migrator.getMigrations()).filter((m) => m.executedAt).map((m) => m.name);
    expect(applied.length).toBeGreaterThan(0);
    for (const migrationName of [...applied].reverse()) {
      const { error, results } = await migrator.migrateDown();
      expect({ migrationName, error: error === undefined ? undefined : error instanceof Error ? error.message : JSON.stringify(error) }).toEqual({ migrationName, error: undefined });
      expect(results).toEqual([{ migrationName, direction: 'Down', status: 'Success' }]);
    }
    expect(await schemaSnapshot(url)).toEqual({ columns: [], constraints: [], indexes: [], triggers: [], functions: [], types: [], sequences: [] });

    await migrateToLatest(handle.db, handle.pool);
    expect(await schemaSnapshot(url)).toEqual(latest);
  });
});
