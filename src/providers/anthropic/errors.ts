/**
 * Upstream Anthropic errors → UpstreamErrorInfo, for HTTP errors and the mid-stream `error` event.
 * Reference: PROTOCOLS.md §3.5 (error body, status table, retry policy), §3.4 (errors mid-stream).
 */
import type { UpstreamErrorInfo } from '../types.js';
import { isRecord, parseJson, readString } from './read-json.js';

export { isUpstreamStreamError, UpstreamStreamError } from '../shared/stream-error.js';

interface AnthropicErrorDetails {
  type: string | undefined;
  message: string | undefined;
  requestId: string | undefined;
}

const MAX_QUOTED_BODY = 200;

/** Reads `{type:"error", error:{type, message}, request_id}`; fields are undefined when the body is not that shape. */
export function readErrorBody(body: unknown): AnthropicErrorDetails {
  if (!isRecord(body)) return { type: undefined, message: undefined, requestId: undefined };
  const error = isRecord(body.error) ? body.error : undefined;
  return {
    type: error ? readString(error, 'type') : undefined,
    message: error ? readString(error, 'message') : undefined,
    requestId: readString(body, 'request_id'),
  };
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/**
 * Seconds to wait, from `retry-after-ms` or `retry-after` (integer seconds) — the order the Anthropic SDK
 * uses. An HTTP-date `retry-after` is ignored: turning it into seconds needs the current time.
 */
export function retryAfterSeconds(headers: Record<string, string | string[] | undefined>): number | undefined {
  const milliseconds = Number(headerValue(headers, 'retry-after-ms'));
  if (headerValue(headers, 'retry-after-ms') !== undefined && Number.isFinite(milliseconds) && milliseconds >= 0) {
    return Math.ceil(milliseconds / 1000);
  }
  const seconds = headerValue(headers, 'retry-after')?.trim();
  if (seconds !== undefined && /^\d+(\.\d+)?$/.test(seconds)) return Math.ceil(Number(seconds));
  return undefined;
}

function describe(details: AnthropicErrorDetails, fallback: string): string {
  const base = details.message ?? fallback;
  return details.requestId ? `${base} (Anthropic request ${details.requestId})` : base;
}

/**
 * Maps an Anthropic error by its `error.type`, falling back to the HTTP status when the type is missing or
 * new (the docs warn new types may appear). `status` is undefined for mid-stream errors.
 */
export function errorInfoFor(
  details: AnthropicErrorDetails,
  status: number | undefined,
  fallbackMessage: string,
): UpstreamErrorInfo {
  const type = details.type ?? typeForStatus(status);
  switch (type) {
    case 'invalid_request_error':
      return { status: 400, code: 'bad_request', message: describe(details, fallbackMessage), retryable: false };
    case 'request_too_large':
      return {
        status: 413,
        code: 'bad_request',
        message: describe(details, 'Request too large for Anthropic'),
        retryable: false,
      };
    case 'authentication_error':
    case 'permission_error':
      // The upstream message is left out on purpose: it is about the channel's credentials, not the caller's request.
      return {
        status: 502,
        code: 'upstream_auth_failed',
        message: `Anthropic rejected the channel's provider API key (${type}); check the channel's credentials`,
        retryable: true,
      };
    case 'billing_error':
      return {
        status: 502,
        code: 'upstream_error',
        message: describe(details, "Anthropic billing problem on the channel's account"),
        retryable: true,
      };
    case 'not_found_error':
      // For /v1/messages this almost always means the channel's upstream model name does not exist.
      return {
        status: 502,
        code: 'upstream_error',
        message: `Anthropic could not find the requested resource — check the channel's upstream model name: ${describe(details, 'not found')}`,
        retryable: true,
      };
    case 'rate_limit_error':
      return {
        status: 429,
        code: 'rate_limit_exceeded',
        message: describe(details, 'Anthropic rate limit reached'),
        retryable: true,
      };
    case 'timeout_error':
      return {
        status: 504,
        code: 'upstream_timeout',
        message: describe(details, 'Anthropic timed out'),
        retryable: true,
      };
    case 'overloaded_error':
      return {
        status: 502,
        code: 'upstream_error',
        message: describe(details, 'Anthropic is overloaded'),
        retryable: true,
      };
    default:
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409) {
        return { status: 400, code: 'bad_request', message: describe(details, fallbackMessage), retryable: false };
      }
      // api_error, 5xx, 408/409 (retried by the Anthropic SDK) and unknown mid-stream errors.
      return { status: 502, code: 'upstream_error', message: describe(details, fallbackMessage), retryable: true };
  }
}

function typeForStatus(status: number | undefined): string | undefined {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return undefined;
  }
}

/** Maps an Anthropic HTTP error (any body, JSON or not) to what it means for the caller and for failover. */
export function parseError(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
): UpstreamErrorInfo {
  const details = readErrorBody(parseJson(body));
  const snippet = body.trim().slice(0, MAX_QUOTED_BODY);
  const fallback =
    snippet === '' ? `Anthropic returned HTTP ${status}` : `Anthropic returned HTTP ${status}: ${snippet}`;
  const info = errorInfoFor(details, status, fallback);
  const wait = retryAfterSeconds(headers);
  return wait !== undefined && info.retryable ? { ...info, retryAfterSeconds: wait } : info;
}
