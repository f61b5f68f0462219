/**
 * The one error type of AI Hub. Every failure a caller can see is an ApiError with a code from
 * ERROR_STATUS; the HTTP layer renders it in the caller's protocol (OpenAI, Anthropic or /api shape).
 */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unauthorized: 401,
  invalid_api_key: 401,
  invalid_credentials: 401,
  token_expired: 401,
  forbidden: 403,
  model_not_allowed: 403,
  ip_not_allowed: 403,
  registration_disabled: 403,
  account_disabled: 403,
  not_found: 404,
  model_not_found: 404,
  conflict: 409,
  ip_rule_lockout: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limit_exceeded: 429,
  too_many_attempts: 429,
  insufficient_quota: 429,
  client_closed: 499,
  internal_error: 500,
  upstream_error: 502,
  upstream_auth_failed: 502,
  no_available_channel: 503,
  service_unavailable: 503,
  upstream_timeout: 504,
  sso_required: 403,
  two_factor_required: 403,
  invalid_two_factor_code: 401,
  invalid_token: 400,
  email_unverified: 403,
  invitation_gone: 410,
  previous_response_not_found: 400,
  insufficient_balance: 402,
  code_expired: 410,
  code_disabled: 410,
  code_used_up: 409,
  already_redeemed: 409,
  payments_not_configured: 503,
  invalid_signature: 400,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ApiErrorOptions {
  /** Name of the offending request field, reported as `param` in OpenAI-shaped errors. */
  param?: string;
  /** Seconds the caller should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number;
  /** Override the status derived from the code (e.g. to pass an upstream 400 through). */
  status?: number;
  /** More response headers (e.g. a refusal's `x-ratelimit-*`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly param: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.param = options.param;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers;
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

export const notFound = (what: string): ApiError => new ApiError('not_found', `${what} not found`);
export const forbidden = (message = 'You do not have permission to do this'): ApiError =>
  new ApiError('forbidden', message);
