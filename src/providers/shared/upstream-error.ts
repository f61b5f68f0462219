/**
 * Status-based mapping of upstream HTTP failures to {@link UpstreamErrorInfo}, shared by every adapter
 * whose error bodies carry a message but no richer machine-readable cause. Provider folders decide the
 * special cases (OpenAI `insufficient_quota`, Azure `content_filter`, Gemini `API_KEY_INVALID`) and
 * delegate the rest here. Reference: PROTOCOLS.md §1.5, §4.5, §6.3 item 15.
 */
import type { UpstreamErrorInfo } from '../types.js';
import { isRecord, readString } from './json.js';

const MAX_MESSAGE_LENGTH = 300;

/** What an adapter learned from one failed upstream response. */
export interface UpstreamFailure {
  /** Upstream HTTP status. */
  status: number;
  /** Human name of the upstream, used in messages ("OpenAI", "Gemini"). */
  provider: string;
  /** The upstream's own message, if it gave one (already redacted by {@link extractErrorMessage}). */
  message: string | undefined;
  /** The upstream's machine code (`invalid_api_key`, `RESOURCE_EXHAUSTED`), if any. */
  upstreamCode?: string | undefined;
  retryAfterSeconds?: number | undefined;
}

/**
 * Removes anything that looks like a credential from upstream text before it can reach a client or a
 * log. OpenAI's 401 message quotes a masked key ("Incorrect API key provided: sk-abc…xyz").
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\bsk-[A-Za-z0-9_*.-]{4,}/g, 'sk-***')
    .replace(/\bAIza[0-9A-Za-z_-]{10,}/g, 'AIza***')
    .replace(/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 ***')
    .replace(/([?&](?:key|api-key|api_key)=)[^&\s"']+/gi, '$1***');
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_LENGTH ? `${flat.slice(0, MAX_MESSAGE_LENGTH)}…` : flat;
}

/**
 * The upstream's error message from a parsed body, or from the raw text when it is not JSON (HTML from
 * a proxy, plain text). Reads the shapes seen in the wild: `{error:{message}}` (OpenAI, Gemini, vLLM),
 * `{error:"…"}` (mlx-lm, Ollama native), `{message}` (Azure gateway), `{detail}` (FastAPI servers).
 */
export function extractErrorMessage(body: unknown, rawText: string): string | undefined {
  let message: string | undefined;
  if (isRecord(body)) {
    const error = body.error;
    if (isRecord(error)) message = readString(error, 'message');
    else if (typeof error === 'string') message = error;
    message ??= readString(body, 'message');
    const detail = body.detail;
    if (message === undefined && typeof detail === 'string') message = detail;
    if (message === undefined && Array.isArray(detail) && isRecord(detail[0])) message = readString(detail[0], 'msg');
  } else if (body === undefined) {
    const text = rawText.replace(/<[^>]*>/g, ' ').trim();
    if (text !== '') message = text;
  }
  if (message === undefined || message.trim() === '') return undefined;
  return clip(redactSecrets(message));
}

function withDetail(base: string, message: string | undefined): string {
  return message ? `${base}: ${message}` : base;
}

/**
 * Maps a failure by HTTP status. Auth failures and unknown models are channel-specific, so they are
 * `retryable` (another channel, with another key or model mapping, may serve the request); a 400 is the
 * client's fault and is not.
 * @example describeUpstreamFailure({ status: 500, provider: 'OpenAI', message: 'boom' }).status // 502
 */
export function describeUpstreamFailure(failure: UpstreamFailure): UpstreamErrorInfo {
  const { status, provider, message } = failure;
  const retryAfter = failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds };
  const code = failure.upstreamCode ? `, ${failure.upstreamCode}` : '';
  if (status === 400 || status === 413 || status === 422) {
    return {
      status: 400,
      code: 'bad_request',
      message: withDetail(`${provider} rejected the request`, message),
      retryable: false,
    };
  }
  if (status === 401 || status === 403) {
    return {
      status: 502,
      code: 'upstream_auth_failed',
      message: `${provider} rejected the channel's provider API key (HTTP ${status}${code}); check the key configured on the channel`,
      retryable: true,
    };
  }
  if (status === 404) {
    return {
      status: 502,
      code: 'upstream_error',
      message: withDetail(
        `${provider} does not know the upstream model or deployment configured on the channel (HTTP 404)`,
        message,
      ),
      retryable: true,
    };
  }
  if (status === 408 || status === 504) {
    return {
      status: 504,
      code: 'upstream_timeout',
      message: withDetail(`${provider} timed out (HTTP ${status})`, message),
      retryable: true,
      ...retryAfter,
    };
  }
  if (status === 429) {
    return {
      status: 429,
      code: 'rate_limit_exceeded',
      message: withDetail(`${provider} rate limit reached`, message),
      retryable: true,
      ...retryAfter,
    };
  }
  if (status >= 500 || status === 409) {
    return {
      status: 502,
      code: 'upstream_error',
      message: withDetail(`${provider} failed (HTTP ${status}${code})`, message),
      retryable: true,
      ...retryAfter,
    };
  }
  return {
    status: 502,
    code: 'upstream_error',
    message: withDetail(`${provider} returned HTTP ${status}${code}`, message),
    retryable: false,
  };
}
