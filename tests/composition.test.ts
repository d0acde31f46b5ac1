/**
 * The wiring stays one-way: the composition root (src/composition.ts) is the only
 * module that imports app.ts, and only the process (service.ts) imports the root,
 * so no component reaches back for the app or its registries.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.resolve('src');

/** Every .ts file under src, relative to it, with the relative modules it imports (resolved, relative to src). */
async function importsUnderSrc(): Promise<Map<string, string[]>> {
  const files = (await fs.readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
  const imports = new Map<string, string[]>();
  for (const file of files) {
    const text = await fs.readFile(path.join(src, file), 'utf8');
    const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
    imports.set(
      file,
      specifiers.map((s) => path.relative(src, path.resolve(path.dirname(path.join(src, file)), s)).replace(/\.js$/, '.ts')),
    );
  }
  return imports;
}

describe('the composition root', () => {
  it('when the sources are read, then only composition.ts imports app.ts, and only service.ts imports composition.ts', async () => {
    const imports = await importsUnderSrc();
    expect(imports.size).toBeGreaterThan(100);
    const importersOf = (module: string) => [...imports].filter(([, targets]) => targets.includes(module)).map(([file]) => file);
    expect(importersOf('app.ts')).toEqual(['composition.ts']);
    expect(importersOf('composition.ts')).toEqual(['service.ts']);
  });
});
