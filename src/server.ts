/** The process: `npm start`. Reads the configuration, starts the service, stops it cleanly on SIGINT/SIGTERM. */
import { ConfigError, loadConfig } from './config.js';
import { EmbeddedPostgresError, startEmbeddedPostgres } from './db/embedded.js';
import { createLogger } from './lib/logger.js';
import { startBanner } from './start-banner.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}
const logger = createLogger(config.logLevel);

// The embedded database starts (initdb on a first run) while the rest of the code loads.
const embeddedDatabase = config.databaseUrl
  ? undefined
  : startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort, logger });
embeddedDatabase?.catch(() => undefined); // handled where it is awaited, in startService
let service;
try {
  const { startService } = await import('./service.js');
  service = await startService(config, logger, { ...(embeddedDatabase ? { embeddedDatabase } : {}) });
} catch (err) {
  if (err instanceof EmbeddedPostgresError) {
    // One plain sentence that says what to do; the cause for whoever needs it.
    logger.debug({ err }, 'the embedded PostgreSQL did not start');
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

// One plain banner on a terminal; elsewhere (a journal, a pipe) the same as one log line.
const banner = startBanner(config, service.port);
if (process.stdout.isTTY) process.stdout.write(`\n${banner}\n\n`);
else logger.info({ banner }, 'ready');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'signal received');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 20_000);
    force.unref();
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
