import { parseCrontab } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { crontab } from '../../src/tasks.js';
import { EXPIRE_STALE_APPLICATIONS_TASK } from '../../src/shares/shares.tasks.js';

describe('the shares schedule', () => {
  it('is a crontab graphile-worker accepts, sweeping stale applications every hour', () => {
    const items = parseCrontab(crontab);
    expect(items.map((i) => i.task)).toContain(EXPIRE_STALE_APPLICATIONS_TASK);
  });
});
