/**
 * What went wrong in an attempt, decided in one place: every failure the dispatch loop and the stream
 * pump see is classified here into an {@link UpstreamErrorInfo} (for the client, for failover and for
 * the channel's health).
 */
import { ApiError, type ErrorCode } from '../../core/errors.js';
import { MappedUpstreamError } from '../../providers/shared/stream-error.js';
import type { UpstreamErrorInfo } from '../../providers/types.js';
import { transportErrorInfo } from './upstream.js';

/** What status a client-side disconnect is recorded with (nginx's convention). */
export const CLIENT_CLOSED = 499;

/** Thrown by an attempt with a mapped upstream error (HTTP error status, error event before any output). */
export class UpstreamFailure extends MappedUpstreamError {}

/**
 * Thrown by an attempt that failed after the client already received part of the answer: the failure
 * was reported inside the stream and the request settled; nothing may be retried or sent any more.
 */
export class CommittedFailure extends MappedUpstreamError {}

/**
 * Runs `build`: the translation of the client's request into the upstream's (and its serialisation).
 * Nothing has been sent yet, so whatever it throws is the request's fault: a 400 for the client, never a
 * failure of the channel (that counted against its health and breaker, and failed over to channels that
 * would fail the same way). An adapter's deliberate refusal (UnsupportedRequestError, an ApiError) keeps
 * its own message and `param`.
 */
export function clientFault<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ApiError || error instanceof MappedUpstreamError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new ApiError(
      'bad_request',
      `The request is invalid and could not be translated for the upstream (${detail})`,
      { cause: error },
    );
  }
}

/** The client's error for a classified failure. */
export function apiErrorOf(info: UpstreamErrorInfo): ApiError {
  return new ApiError(info.code as ErrorCode, info.message, {
    status: info.status,
    retryAfterSeconds: info.retryAfterSeconds,
  });
}

/** A 4xx that says the request itself is wrong (not 408 timeout / 429 rate limit, which are the upstream's state). */
export function isClientError(info: UpstreamErrorInfo): boolean {
  return (
    info.status >= 400 &&
    info.status < 500 &&
    info.status !== 408 &&
    info.status !== 429 &&
    info.code !== 'upstream_auth_failed'
  );
}

/**
 * Classify an attempt's failure. `midStream`: the upstream had begun answering (a broken or stalled
 * stream body), else nothing usable came (connection, headers, a malformed body).
 */
export function classifyFailure(
  error: unknown,
  channelName: string,
  timedOut: boolean,
  midStream: boolean,
): UpstreamErrorInfo {
  if (error instanceof MappedUpstreamError) return error.info;
  const code = (error as { code?: unknown } | null)?.code;
  if (midStream) {
    const detail = typeof code === 'string' ? code : '';
    if (timedOut || detail === 'UND_ERR_BODY_TIMEOUT')
      return {
        status: 504,
        code: 'upstream_timeout',
        message: `Upstream ${channelName} stopped sending in time`,
        retryable: true,
      };
    return {
      status: 502,
      code: 'upstream_error',
      message: `Upstream ${channelName} failed mid-stream (${detail || (error instanceof Error ? error.message : 'error')})`,
      retryable: true,
    };
  }
  if (error instanceof SyntaxError)
    return {
      status: 502,
      code: 'upstream_error',
      message: `Upstream ${channelName} sent a malformed response`,
      retryable: true,
    };
  if (error instanceof ApiError)
    return { status: error.status, code: 'upstream_error', message: error.message, retryable: false };
  return transportErrorInfo(error, channelName, timedOut);
}
