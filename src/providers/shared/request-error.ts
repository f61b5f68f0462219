/**
 * Thrown by `build*Request` when a canonical request cannot be expressed in the upstream's format
 * (e.g. token-array embedding input for Gemini). The gateway answers 400 without calling the upstream.
 */
import type { UpstreamErrorInfo } from '../types.js';

export class UnsupportedRequestError extends Error {
  readonly info: UpstreamErrorInfo;

  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedRequestError';
    this.info = { status: 400, code: 'bad_request', message, retryable: false };
  }
}
