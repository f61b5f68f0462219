/**
 * Error bodies in Anthropic's shape for the gateway's `/v1/messages` endpoint.
 * Reference: PROTOCOLS.md §3.5 (error body and HTTP status ↔ error.type table).
 */
import type { AnthropicErrorBody, AnthropicErrorType } from './types.js';

/** Anthropic error type for an HTTP status (the table in PROTOCOLS.md §3.5), with gateway codes refining it. */
function anthropicErrorType(status: number, code: string): AnthropicErrorType {
  if (code === 'no_available_channel' || code === 'service_unavailable' || status === 529) return 'overloaded_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'api_error';
}

/** Error body in Anthropic's shape for the gateway's `/v1/messages` endpoint. */
export function toAnthropicError(status: number, code: string, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorType(status, code), message } };
}
