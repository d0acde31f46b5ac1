/** The service as tests/support/service-process.mjs starts it in a child process. */
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { startService } from '../../src/service.js';

export async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, process.stderr);
  const service = await startService(config, logger, { liveness: { beatMs: 200, deadAfterMs: 60_000 } });
  process.stdout.write(`ready ${service.url}\n`);
}
