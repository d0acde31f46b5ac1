/** Small helpers for routes that serve both browsers (forms, pages) and API clients. */
import type { ErrorRequestHandler, Request } from 'express';
import type { AppDeps } from '../deps.js';
import { AppError } from '../lib/errors.js';
import { renderPage } from '../lib/pages.js';

/** A browser form post or page load (prefers HTML); fetch/curl with Accept: * / * get JSON. */
export function wantsHtml(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}

/**
 * Errors of the members' routes: a 429 carries Retry-After; a browser gets the
 * message as a page with the same status instead of the JSON body.
 */
export function membersErrorHandler(deps: AppDeps): ErrorRequestHandler {
  return async (err, req, res, next) => {
    if (!(err instanceof AppError)) return next(err);
    const error = err as AppError<string>;
    const retryAfter = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (err.status === 429 && typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
    if (!wantsHtml(req) || res.headersSent) return next(err);
    res.setHeader('Cache-Control', 'no-store');
    await renderPage(deps, res, 'auth-message', { title: titleFor(error.status), message: error.message, code: error.code, offerSignIn: error.status === 401 || error.status === 429 || req.path === '/api/auth/login' }, error.status);
  };
}

function titleFor(status: number): string {
  switch (status) {
    case 401:
      return 'Please sign in';
    case 403:
      return 'Not allowed';
    case 429:
      return 'Please wait a moment';
    default:
      return 'Something is not right';
  }
}
