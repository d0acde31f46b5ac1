import { describe, expect, it } from 'vitest';
import { humanReference } from '../../src/lib/references.js';

describe('humanReference', () => {
  it('when given a record id, then it reads as KIND-XXXX-XXXX in letters that cannot be misread, the same every time', () => {
    const id = '0f8e2d4c-1b3a-4c5d-9e7f-a1b2c3d4e5f6';
    expect(humanReference('GIFT', id)).toBe(humanReference('GIFT', id));
    expect(humanReference('GIFT', id)).toMatch(/^GIFT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(humanReference('GIFT', '00000000-0000-4000-8000-000000000000')).toBe('GIFT-0000-0000');
    expect(humanReference('SHARES', 'ffffffff-ff00-4000-8000-000000000000')).toBe('SHARES-ZZZZ-ZZZZ');
    expect(humanReference('GIFT', '0f8e2d4c-1b3a-4c5d-9e7f-a1b2c3d4e5f6')).not.toBe(humanReference('GIFT', '0f8e2d4c-1c3a-4c5d-9e7f-a1b2c3d4e5f6'));
  });

  it('when given something that is not a UUID, then it refuses', () => {
    expect(() => humanReference('GIFT', 'pi_123')).toThrow();
  });
});
