/**
 * OpenAI-format error bodies → UpstreamErrorInfo, for HTTP errors and `data: {"error":…}` mid-stream.
 * Reference: PROTOCOLS.md §1.5 (body, status codes, retry headers), §1.4 (errors mid-stream).
 */
import { headerValue, type ResponseHeaders, retryAfterSeconds } from '../shared/http-headers.js';
import { isRecord, parseJson, readString, type UnknownRecord } from '../shared/json.js';
import { describeUpstreamFailure, extractErrorMessage } from '../shared/upstream-error.js';
import type { UpstreamErrorInfo } from '../types.js';

/** `error.code` (string, or number as vLLM/llama.cpp send it) or else `error.type`. */
function upstreamCode(error: UnknownRecord | undefined): string | undefined {
  if (!error) return undefined;
  const code = error.code;
  if (typeof code === 'string' && code !== '') return code;
  if (typeof code === 'number') return String(code);
  return readString(error, 'type');
}

function isQuotaExhausted(error: UnknownRecord | undefined): boolean {
  return error?.code === 'insufficient_quota' || error?.type === 'insufficient_quota';
}

function quotaExhausted(provider: string): UpstreamErrorInfo {
  return {
    status: 502,
    code: 'upstream_error',
    message: `The ${provider} account behind this channel is out of quota (insufficient_quota); retrying it will not help until it is topped up`,
    // Retrying this channel is useless, but failover to another channel may succeed.
    retryable: true,
  };
}

/**
 * Maps an OpenAI-format error response. A 429 with `insufficient_quota` is a billing problem, not a rate
 * limit, so it becomes 502 (the client cannot fix it by waiting). `x-should-retry` overrides the
 * retryable flag when the upstream sends it, as the OpenAI SDK does.
 * @example parseOpenAiError(429, '{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}', { 'retry-after': '2' })
 * // { status: 429, code: 'rate_limit_exceeded', retryable: true, retryAfterSeconds: 2, … }
 */
export function parseOpenAiError(
  status: number,
  body: string,
  headers: ResponseHeaders,
  provider = 'OpenAI',
): UpstreamErrorInfo {
  const parsed = parseJson(body);
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  if (status === 429 && isQuotaExhausted(error)) return quotaExhausted(provider);
  const info = describeUpstreamFailure({
    status,
    provider,
    message: extractErrorMessage(parsed, body),
    upstreamCode: upstreamCode(error),
    retryAfterSeconds: retryAfterSeconds(headers),
  });
  const shouldRetry = headerValue(headers, 'x-should-retry');
  if (shouldRetry === 'true' || shouldRetry === 'false') return { ...info, retryable: shouldRetry === 'true' };
  return info;
}

/** The HTTP status an error object inside a 200 stream stands for, from its numeric code or type. */
function impliedStatus(error: UnknownRecord): number {
  if (typeof error.code === 'number' && error.code >= 400 && error.code < 600) return error.code;
  const kind = `${String(error.code ?? '')} ${String(error.type ?? '')}`;
  if (/insufficient_quota|rate_limit|tokens|requests/.test(kind)) return 429;
  if (/invalid_request|context_length|bad_request/i.test(kind)) return 400;
  if (/authentication|invalid_api_key|permission/.test(kind)) return 401;
  return 500;
}

/**
 * Maps the `error` object of a mid-stream error payload (`data: {"error":{…}}` or `event: error`).
 * A string `error` (some servers) is accepted as the message.
 */
export function openAiStreamErrorInfo(error: unknown, provider = 'OpenAI'): UpstreamErrorInfo {
  const record: UnknownRecord = isRecord(error) ? error : { message: typeof error === 'string' ? error : undefined };
  const body = JSON.stringify({ error: record });
  return parseOpenAiError(impliedStatus(record), body, {}, provider);
}
