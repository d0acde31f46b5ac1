/** The service's V8 flags (src/node-flags.ts) are the same wherever it is started. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVICE_NODE_FLAGS } from '../src/node-flags.js';

const read = (file: string) => fs.readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe('the flags the service process runs with', () => {
  it('when npm start runs the service, then node gets every flag before the script', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe(`node ${SERVICE_NODE_FLAGS.join(' ')} bin/start.mjs`);
  });

  it('when systemd runs an instance, then its ExecStart gives node every flag before the script', () => {
    const execStart = /^ExecStart=(.*)$/m.exec(read('deploy/reader-coop@.service'))?.[1];
    expect(execStart).toBe(`/usr/bin/node ${SERVICE_NODE_FLAGS.join(' ')} dist/src/server.js`);
  });
});
