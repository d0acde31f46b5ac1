/**
 * What every /admin page shares: who may see it (the admin and treasurer roles;
 * anyone else gets a 403 page), the CSRF token its forms carry, the admin
 * navigation, the notice after an action (by code, so a link cannot make the
 * page say anything else), and form errors shown on the page instead of JSON.
 *
 * Pages are plain HTML forms: they work without JavaScript, and every action is
 * a POST answered with a 303 redirect to the page that shows its outcome.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppDeps } from '../deps.js';
import { AppError } from '../lib/errors.js';
import { renderPage } from '../lib/pages.js';
import { findCurrentPerson, optionalSession, type Role } from '../members/access.js';
import { csrfTokenFor } from '../members/csrf.js';

/** The notices an action's redirect can ask a page to show. */
const notices: Record<string, string> = {
  gift_recorded: 'The gift is booked.',
  entry_reversed: 'The entry is reversed.',
  campaign_created: 'The campaign is created.',
  campaign_updated: 'The campaign is changed.',
  imported: 'The statement is imported.',
  member_changed: 'The register entry is changed.',
  withdrawal_approved: 'The withdrawal is approved; the member has been emailed.',
  withdrawal_rejected: 'The withdrawal is rejected; the member has been emailed.',
  withdrawal_deferred: 'The withdrawal is deferred; the member has been emailed.',
  withdrawal_paid: 'The withdrawal is recorded as paid; the member has been emailed.',
  role_granted: 'The role is granted.',
  role_revoked: 'The role is revoked.',
  repaired: 'What Stripe had and the books lacked is booked.',
};

/** Admin and treasurer (or only `roles`): anyone else gets a 403 page, signed in or not. */
export function adminOnlyPages(deps: AppDeps, roles: Role[] = ['admin', 'treasurer']): RequestHandler[] {
  const session = optionalSession(deps);
  return [
    session,
    async (req: Request, res: Response, next: NextFunction) => {
      const person = findCurrentPerson(req);
      if (person && person.roles.some((r) => roles.includes(r))) return next();
      res.setHeader('Cache-Control', 'no-store');
      await renderPage(
        deps,
        res,
        'auth-message',
        {
          title: 'Not allowed',
          message: person
            ? 'These pages are for the society’s treasurer and admins. Your account does not have that role.'
            : 'These pages are for the society’s treasurer and admins. Please sign in first.',
          code: 'forbidden',
          offerSignIn: !person,
        },
        403,
      );
    },
  ];
}

/** Renders templates/admin/<template>.liquid with the admin layout's variables. */
export async function renderAdminPage(deps: AppDeps, req: Request, res: Response, template: string, vars: Record<string, unknown> = {}, status = 200): Promise<void> {
  const person = findCurrentPerson(req);
  const done = typeof req.query.done === 'string' ? notices[req.query.done] : undefined;
  res.setHeader('Cache-Control', 'no-store');
  await renderPage(
    deps,
    res,
    `admin/${template}`,
    {
      csrf: csrfTokenFor(deps.config, req),
      admin: { email: person?.email, isAdmin: person?.roles.includes('admin') ?? false, section: template.split('-')[0] },
      notice: done,
      currency: deps.config.society.currency,
      ...vars,
    },
    status,
  );
}

/**
 * Runs a form's action; an AppError a person can act on (4xx) comes back as
 * `{ error }` for the page to show beside the form, with its status.
 */
export async function tryAction<T>(action: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: AppError<string> }> {
  try {
    return { ok: true, value: await action() };
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return { ok: false, error: err as AppError<string> };
    throw err;
  }
}

/** A checkbox or yes/no field of a form. */
export function checked(value: unknown): boolean {
  return value === 'on' || value === 'yes' || value === 'true' || value === '1';
}

/** A form's text field, trimmed; undefined when empty or absent. */
export function field(body: unknown, name: string): string | undefined {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * OpenAPI entries for /admin pages and their form posts (HTML in, HTML or a 303 out),
 * so the API description names every route the app serves.
 */
export function adminPagesOpenApi(routes: [method: 'get' | 'post', path: string, summary: string][]): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [method, path, summary] of routes) {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    (paths[path] ??= {})[method] = {
      tags: ['admin pages'],
      summary,
      security: [{ session: [] }],
      ...(params.length ? { parameters: params } : {}),
      ...(method === 'post'
        ? { requestBody: { required: true, content: { 'application/x-www-form-urlencoded': {}, 'multipart/form-data': {} } } }
        : {}),
      responses: {
        '200': { description: 'HTML', content: { 'text/html': {} } },
        ...(method === 'post' ? { '303': { description: 'Done: on to the page that shows it' } } : {}),
        '403': { description: 'Not an admin or treasurer (HTML)', content: { 'text/html': {} } },
      },
    };
  }
  return paths;
}

/** An /admin page's error (a bad filter, an unknown entry) as a page for browsers; API clients keep the JSON. */
export function adminPagesErrorHandler(deps: AppDeps): import('express').ErrorRequestHandler {
  return async (err, req, res, next) => {
    if (!(err instanceof AppError) || res.headersSent || req.accepts(['json', 'html']) !== 'html') return next(err);
    await renderAdminPage(deps, req, res, 'error', { title: 'That did not work', error: err }, err.status);
  };
}
