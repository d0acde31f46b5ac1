/**
 * Runs the service in a child process, as `npm start` does, for tests that kill
 * it (SIGKILL) and watch another instance take its work over:
 *
 *   node tests/support/service-process.mjs    (configured by the environment, SPEC section 2)
 *
 * Plain JavaScript so plain `node` runs it; the TypeScript service (and the
 * migrations it imports at start) is loaded through a Vite module runner, the
 * transform vitest itself uses. Prints `ready <url>` once listening.
 */
import { createServer, createServerModuleRunner } from 'vite';

const vite = await createServer({
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, watch: null, ws: false },
  optimizeDeps: { noDiscovery: true, include: [] },
});
const runner = createServerModuleRunner(vite.environments.ssr, { hmr: false });
const instance = await runner.import(new URL('./service-instance.ts', import.meta.url).pathname);
await instance.main();
