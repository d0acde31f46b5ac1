/**
 * The pieces every route shares: input validation with zod, and the one error
 * middleware that speaks the contract's error body
 * `{"error": {"code", "message", "details"}}`.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { AppError } from './errors.js';
import { assertStorableText } from './input-guard.js';
import type { Logger } from './logger.js';

/** Parses `input` with `schema` or throws a 400 `invalid_request` naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  assertStorableText(input);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new AppError({
    code: 'invalid_request',
    status: 400,
    message: describeIssues(result.error.issues),
    details: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
  });
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  const first = issues[0];
  if (!first) return 'The request is not valid.';
  const where = first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return `${where}${first.message}${more}`;
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError({ code: 'not_found', status: 404, message: `Nothing is at ${req.method} ${req.path}.` }));
};

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

/** Turns any error into the contract's error JSON; unknown errors are logged and become a 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const appError = toAppError(err);
    if (appError) {
      // A route may have set its own type before failing (an SVG, a page): the error is JSON, whatever it was.
      res.status(appError.status).type('application/json').json({
        error: { code: appError.code, message: appError.message, ...(appError.details === undefined ? {} : { details: appError.details }) },
      });
      return;
    }
    // No req.log when the error came before the request logger (the path guard, the fund's figures).
    ((req as { log?: Logger }).log ?? logger).error({ err }, 'unhandled error');
    res.status(500).type('application/json').json({ error: { code: 'internal_error', message: 'Something went wrong on our side. Please try again.' } });
  };
}

function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  // Anything may be thrown: only an object can carry these fields.
  const bodyError = (typeof err === 'object' && err !== null ? err : {}) as BodyParserError;
  switch (bodyError.type) {
    case 'entity.parse.failed':
      return new AppError({ code: 'malformed_json', status: 400, message: 'The request body is not valid JSON.' });
    case 'entity.too.large':
      return new AppError({ code: 'payload_too_large', status: 413, message: 'The request body is too large.' });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError({ code: 'unsupported_media_type', status: 415, message: 'The request body encoding is not supported.' });
  }
  // Any other error Express or a parser marks as the client's (http-errors: a 4xx status, `expose`),
  // e.g. a path parameter with a malformed escape: the client hears it as a 400, never a 500.
  const status = bodyError.status ?? bodyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && (err instanceof URIError || bodyError.expose === true)) {
    return new AppError({ code: 'invalid_request', status: 400, message: 'The request is not valid.' });
  }
  const pgError = bodyError as { code?: string; constraint?: string };
  if (pgError.code === '23505') {
    return new AppError({ code: 'conflict', status: 409, message: 'That conflicts with something that already exists.', details: { constraint: pgError.constraint } });
  }
  return undefined;
}
