/**
 * One error type for everything a client can be told about. Components declare
 * their own codes as string-literal unions (`x.errors.ts`, or beside the service)
 * and throw `new AppError<TheirCode>({...})`; without a type argument only the
 * common codes below compile, so no code is a free string. The error middleware
 * (lib/http.ts) turns it into the contract's JSON body.
 */
export type HttpErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 502 | 503;

export interface AppErrorOptions<Code extends string = CommonErrorCode> {
  code: Code;
  status: HttpErrorStatus;
  message: string;
  details?: unknown;
  cause?: unknown;
}

export class AppError<Code extends string = CommonErrorCode> extends Error {
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
  | 'payment_provider_error'
  | 'internal_error';

/** 404 with the common code, or a component's own (`notFound<PeopleErrorCode>('That person', 'person_not_found')`). */
export function notFound<Code extends string = CommonErrorCode>(what: string, code: NoInfer<Code> | 'not_found' = 'not_found'): AppError<Code | 'not_found'> {
  return new AppError<Code | 'not_found'>({ code, status: 404, message: `${what} was not found.` });
}
