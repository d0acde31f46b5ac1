/**
 * Server-rendered pages: every page is a liquid template under templates/pages
 * extending templates/layouts/page.liquid, which carries the society's name,
 * the navigation and, whenever payments are simulated, a SANDBOX banner.
 *
 *   await renderPage(deps, res, 'donate', { title: 'Donate', ... });
 *
 * Templates can format money with `{{ amount | money: currency }}` (whole
 * units, rounded down: `{{ amount | money: currency, true }}`; rounded up: `{{ amount | money: currency, 'up' }}`), which calls lib/money.ts.
 */
import type { Response } from 'express';
import type { Liquid } from 'liquidjs';
import type { AppDeps } from '../deps.js';
import { formatMoney, formatMoneyShort } from './money.js';
import { createTemplateEngine } from './templates.js';

const engines = new Map<boolean, Liquid>();

/** The page engine: cached templates except in development, where edits show on reload. */
export function pageEngine(cache: boolean): Liquid {
  let engine = engines.get(cache);
  if (!engine) {
    engine = createTemplateEngine({ cache });
    engine.registerFilter('money', (minor: unknown, currency: unknown, whole?: unknown) =>
      typeof minor === 'number' && typeof currency === 'string'
        ? formatMoney(minor, currency, { wholeUnits: whole === true || whole === 'down' || whole === 'up', round: whole === 'up' ? 'up' : 'down' })
        : '',
    );
    engine.registerFilter('money_short', (minor: unknown, currency: unknown) =>
      typeof minor === 'number' && typeof currency === 'string' ? formatMoneyShort(minor, currency) : '',
    );
    engines.set(cache, engine);
  }
  return engine;
}

/**
 * A form page's error summary: one entry per field that has a message, linking to
 * that field. `fieldFor` points messages about something without an input of its
 * own (the campaign, the whole form) at the field the reader should go to.
 */
export function formErrorSummary(
  errors: Partial<Record<string, string>>,
  fieldFor: Record<string, string> = {},
): { field: string; message: string }[] {
  return Object.entries(errors)
    .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length > 0)
    .map(([field, message]) => ({ field: fieldFor[field] ?? field, message }));
}

/** What every page's layout sees, besides the page's own variables. */
export function layoutVars(deps: Pick<AppDeps, 'config' | 'clock'>): Record<string, unknown> {
  const { config } = deps;
  return {
    society: {
      name: config.society.name,
      address: config.society.address,
      registrationNumber: config.society.registrationNumber,
      rulesUrl: config.society.rulesUrl,
      contactEmail: config.society.contactEmail,
      privacyUrl: config.society.privacyUrl,
      logoUrl: config.society.logoUrl,
    },
    sandbox: config.stripe.sandbox,
    publicUrl: config.publicUrl,
  };
}

/**
 * Renders templates/pages/<template>.liquid (or templates/<template>.liquid when
 * the name has a folder in it) inside the layout and sends it as HTML.
 */
export async function renderPage(deps: AppDeps, res: Response, template: string, vars: object = {}, status = 200): Promise<void> {
  const html = await renderPageHtml(deps, template, vars);
  res.status(status).type('html').send(html);
}

/** The page as a string, for callers that need it before sending (or tests). */
export async function renderPageHtml(deps: Pick<AppDeps, 'config' | 'clock'>, template: string, vars: object = {}): Promise<string> {
  const file = template.includes('/') ? template : `pages/${template}`;
  const engine = pageEngine(deps.config.env !== 'development');
  return (await engine.renderFile(file, { ...layoutVars(deps), ...vars })) as string;
}
