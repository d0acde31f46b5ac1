/** Applies the Kysely migrations in /migrations and graphile-worker's own schema. */
import fs from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { runMigrations as runWorkerMigrations } from 'graphile-worker';
import { workerLogger } from '../lib/jobs.js';
import type { Logger } from '../lib/logger.js';
import type pg from 'pg';

// From src/db (tests) this is /migrations; from dist/src/db (built) it is dist/migrations.
const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

class DirectoryMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await fs.readdir(migrationsDir)).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts')).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const module = (await import(pathToFileURL(path.join(migrationsDir, file)).href)) as Migration;
      migrations[file.replace(/\.(ts|js)$/, '')] = module;
    }
    return migrations;
  }
}

/** Kysely's migrator over /migrations (the migrations test also walks them down with it). */
export function createMigrator<D>(db: Kysely<D>): Migrator {
  return new Migrator({ db, provider: new DirectoryMigrationProvider() });
}

export async function migrateToLatest<D>(db: Kysely<D>, pool: pg.Pool, logger?: Logger): Promise<void> {
  await runWorkerMigrations({ pgPool: pool, logger: workerLogger(logger) });
  const migrator = createMigrator(db);
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed`, { cause: error });
  }
}

