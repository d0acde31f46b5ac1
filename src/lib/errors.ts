/**
 * One error type for everything a client can be told about. Components declare
 * their own codes as string-literal unions and throw `new AppError({...})`;
 * the error middleware (lib/http.ts) turns it into the contract's JSON body.
 */
export type HttpErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 502 | 503;

export interface AppErrorOptions<Code extends string = string> {
  code: Code;
  status: HttpErrorStatus;
  message: string;
  details?: unknown;
  cause?: unknown;
}

export class AppError<Code extends string = string> extends Error {
  override name = 'AppError';
  readonly code: Code;
  readonly status: HttpErrorStatus;
  readonly details: unknown;

  constructor(options: AppErrorOptions<Code>) {
    super(options.message, { cause: options.cause });
    this.code = options.code;
    this.status = options.status;
    this.details = options.details;
  }
}

/** Codes shared by every component. */
export type CommonErrorCode =
  | 'invalid_request'
  | 'malformed_json'
  | 'not_found'
  | 'unauthenticated'
  | 'forbidden'
  | 'conflict'
  | 'rate_limited'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'payment_provider_unavailable'
  | 'internal_error';

export const notFound = (what: string, code = 'not_found') =>
  new AppError({ code, status: 404, message: `${what} was not found.` });
