/**
 * Gemini error bodies `{error:{code, message, status, details}}` → UpstreamErrorInfo.
 * Reference: PROTOCOLS.md §4.5. Notable cases:
 * - an invalid key is HTTP 400 `INVALID_ARGUMENT` with `details[].reason: "API_KEY_INVALID"` (js-genai
 *   recordings) — mapped to 502 upstream_auth_failed like 401/403 `PERMISSION_DENIED`/`UNAUTHENTICATED`;
 * - 400 `FAILED_PRECONDITION` (free tier unavailable without billing) is the account's problem, not the
 *   client's: 502, retryable so another channel may serve;
 * - 429 `RESOURCE_EXHAUSTED` → 429; the wait comes from `Retry-After` or the `google.rpc.RetryInfo`
 *   detail's `retryDelay` ("37s");
 * - 5xx / `UNAVAILABLE` → 502 retryable.
 */
import { type ResponseHeaders, retryAfterSeconds } from '../shared/http-headers.js';
import { isRecord, parseJson, readArray, readNumber, readString, type UnknownRecord } from '../shared/json.js';
import { describeUpstreamFailure, extractErrorMessage } from '../shared/upstream-error.js';
import type { UpstreamErrorInfo } from '../types.js';

const PROVIDER = 'Gemini';

function detailsOf(error: UnknownRecord): UnknownRecord[] {
  return readArray(error, 'details').filter(isRecord);
}

function errorReason(error: UnknownRecord): string | undefined {
  for (const detail of detailsOf(error)) {
    const reason = readString(detail, 'reason');
    if (reason) return reason;
  }
  return undefined;
}

/** `retryDelay: "37s"` (or "1.5s") from a `google.rpc.RetryInfo` detail, rounded up to whole seconds. */
function retryInfoSeconds(error: UnknownRecord): number | undefined {
  for (const detail of detailsOf(error)) {
    const delay = readString(detail, 'retryDelay');
    const match = delay === undefined ? null : /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
    if (match) return Math.ceil(Number(match[1]));
  }
  return undefined;
}

function mapGeminiError(
  status: number,
  error: UnknownRecord | undefined,
  message: string | undefined,
  retryAfter: number | undefined,
): UpstreamErrorInfo {
  const statusText = error ? readString(error, 'status') : undefined;
  const reason = error ? errorReason(error) : undefined;
  const isAuth = reason === 'API_KEY_INVALID' || statusText === 'PERMISSION_DENIED' || statusText === 'UNAUTHENTICATED';
  if (isAuth && status < 500) {
    return describeUpstreamFailure({
      status: status === 403 ? 403 : 401,
      provider: PROVIDER,
      message,
      upstreamCode: reason ?? statusText,
    });
  }
  if (statusText === 'FAILED_PRECONDITION') {
    return {
      status: 502,
      code: 'upstream_error',
      message: `${PROVIDER} refused the request for the channel's account (FAILED_PRECONDITION)${message ? `: ${message}` : ''}`,
      retryable: true,
    };
  }
  return describeUpstreamFailure({
    status,
    provider: PROVIDER,
    message,
    upstreamCode: statusText,
    retryAfterSeconds: retryAfter ?? (error ? retryInfoSeconds(error) : undefined),
  });
}

/**
 * @example parseGeminiError(429, '{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}', {}).status // 429
 */
export function parseGeminiError(status: number, body: string, headers: ResponseHeaders): UpstreamErrorInfo {
  const parsed = parseJson(body);
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  return mapGeminiError(status, error, extractErrorMessage(parsed, body), retryAfterSeconds(headers));
}

/** Maps the `error` object of a mid-stream `data: {"error":…}` payload, using its numeric `code` as the status. */
export function geminiStreamErrorInfo(error: UnknownRecord): UpstreamErrorInfo {
  const code = readNumber(error, 'code');
  const status = code !== undefined && code >= 400 && code < 600 ? code : 500;
  return mapGeminiError(status, error, extractErrorMessage({ error }, ''), undefined);
}
