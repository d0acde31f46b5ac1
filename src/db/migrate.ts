/** `npm run migrate`: applies every pending migration, then exits. */
import { loadConfig } from '../config.js';
import { createLogger } from '../lib/logger.js';
import { connectDatabase } from './database.js';
import { startEmbeddedPostgres } from './embedded.js';
import { migrateToLatest } from './migrator.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const embedded = config.databaseUrl
  ? undefined
  : await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort, logger });
const handle = connectDatabase(config.databaseUrl ?? embedded!.url);
try {
  await migrateToLatest(handle.db, handle.pool, logger);
  logger.info('database is up to date');
} finally {
  await handle.close();
  await embedded?.stop();
}
