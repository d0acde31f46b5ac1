/**
 * Pages and emails are rendered from /templates with liquidjs, escaping every
 * output by default (`{{ name }}` is safe; `{{ html | raw }}` is a deliberate choice).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Liquid } from 'liquidjs';

/** The project's top folder, whether this runs from src/lib (tests) or dist/src/lib (built). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), import.meta.url.includes('/dist/src/') ? '../../..' : '../..');

export const templatesDir = path.join(projectRoot, 'templates');

export function createTemplateEngine(options: { cache?: boolean } = {}): Liquid {
  return new Liquid({
    root: [templatesDir],
    extname: '.liquid',
    outputEscape: 'escape',
    cache: options.cache ?? true,
    strictFilters: true,
    jsTruthy: true,
  });
}
