/**
 * Once per test run: a PostgreSQL server (TEST_DATABASE_URL, or an embedded one
 * under var/test) and a template database with every migration applied. Each
 * test app then gets a database of its own copied from the template.
 */
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { connectDatabase } from '../../src/db/database.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { createLogger } from '../../src/lib/logger.js';
import { freePort } from '../../src/lib/net.js';
import { adminQuery, withDatabase } from '../../src/db/admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    database: { serverUrl: string; template: string };
  }
}

export default async function setup(project: TestProject) {
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  let serverUrl = process.env.TEST_DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!serverUrl) {
    const embedded = await startEmbeddedPostgres({
      dataDir: path.resolve('var/test'),
      port: await freePort(),
      logger,
      database: 'postgres',
    });
    serverUrl = embedded.url;
    stopEmbedded = embedded.stop;
  }
  const template = `reader_coop_template_${process.pid}_${Date.now()}`;
  await adminQuery(serverUrl, `create database "${template}"`);
  const handle = connectDatabase(withDatabase(serverUrl, template), { max: 2 });
  try {
    await migrateToLatest(handle.db, handle.pool);
  } finally {
    await handle.close();
  }
  project.provide('database', { serverUrl, template });

  return async () => {
    await adminQuery(serverUrl, `drop database if exists "${template}" with (force)`);
    await stopEmbedded?.();
  };
}
