/**
 * The error a stream translator throws when an upstream reports a failure inside a stream that began
 * with HTTP 200 (OpenAI `data: {"error":…}`, Gemini `data: {"error":{code,message,status}}`).
 * Reference: PROTOCOLS.md §1.4 (errors mid-stream), §4.4, §6.3 item 11.
 */
import type { UpstreamErrorInfo } from '../types.js';

/**
 * An upstream failure already mapped to what it means for the client and for failover: every error that
 * carries an {@link UpstreamErrorInfo} extends this, so the gateway classifies failures with one check.
 */
export class MappedUpstreamError extends Error {
  readonly info: UpstreamErrorInfo;

  constructor(info: UpstreamErrorInfo) {
    super(info.message);
    this.name = 'MappedUpstreamError';
    this.info = info;
  }
}

/** Carries the mapped {@link UpstreamErrorInfo}; the gateway turns it into an SSE error event and closes. */
export class UpstreamStreamError extends MappedUpstreamError {
  constructor(info: UpstreamErrorInfo) {
    super(info);
    this.name = 'UpstreamStreamError';
  }
}

/**
 * True for an {@link UpstreamStreamError}, also one defined by another adapter folder with the same
 * name and an `info` object (so the gateway can catch them all with one check).
 */
export function isUpstreamStreamError(value: unknown): value is UpstreamStreamError {
  if (value instanceof UpstreamStreamError) return true;
  if (!(value instanceof Error) || value.name !== 'UpstreamStreamError') return false;
  const info = (value as { info?: unknown }).info;
  return typeof info === 'object' && info !== null && typeof (info as { status?: unknown }).status === 'number';
}

/**
 * Thrown by `parseChatResponse` / `parseEmbeddingsResponse` when an HTTP 200 body is not the documented
 * shape (or is an error object in disguise, as some OpenAI-compatible servers send).
 */
export class InvalidUpstreamResponseError extends MappedUpstreamError {
  constructor(info: UpstreamErrorInfo) {
    super(info);
    this.name = 'InvalidUpstreamResponseError';
  }
}

/** The error for a 200 body that cannot be used: 502, retryable (another channel may answer properly). */
export function invalidResponse(provider: string, what: string): InvalidUpstreamResponseError {
  return new InvalidUpstreamResponseError({
    status: 502,
    code: 'upstream_error',
    message: `${provider} returned an unexpected response: ${what}`,
    retryable: true,
  });
}
