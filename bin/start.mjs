#!/usr/bin/env node
/**
 * `npm start` and `npm run build`. The TypeScript is compiled at install time (the
 * `prepare` script), so `npm start` starts the compiled service at once; it compiles
 * first only when a source file is newer than the last build (someone edited the
 * code), and says so. Plain JavaScript, so it runs before anything is compiled.
 *
 *   node bin/start.mjs            build if stale, then run dist/src/server.js
 *   node bin/start.mjs --build    build if stale (npm install's prepare; npm run bench)
 *   node bin/start.mjs --rebuild  build now (npm run build)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const stamp = path.join(root, 'dist', '.built');
const sources = ['src', 'migrations', 'tests/bench', 'tests/chaos', 'tests/support', 'tsconfig.json', 'tsconfig.build.json'];
const mode = process.argv[2];

if (mode === '--rebuild' || newestSource() > builtAt()) {
  if (mode !== '--rebuild') {
    console.log(builtAt() === 0 ? 'Compiling the TypeScript (first build)...' : 'The code changed since the last build: compiling the TypeScript...');
  }
  build();
}
if (!mode) await import(pathToFileURL(path.join(root, 'dist', 'src', 'server.js')).href);

function build() {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    console.error('TypeScript is not installed, so the service cannot be compiled: run npm install (with dev dependencies) first.');
    process.exit(1);
  }
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

function builtAt() {
  return statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

function newestSource() {
  let newest = 0;
  const visit = (file) => {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) for (const name of readdirSync(file)) visit(path.join(file, name));
    else if (/\.(ts|json)$/.test(file)) newest = Math.max(newest, stat.mtimeMs);
  };
  for (const source of sources) visit(path.join(root, source));
  return newest;
}
