/**
 * The one way an adapter refuses a request: thrown by `build*Request` when a canonical request cannot be
 * expressed in the upstream's format (e.g. token-array embedding input for Gemini, a role Anthropic does
 * not have). Nothing is sent; the gateway answers 400 `bad_request` (with `param` when given) and counts
 * nothing against the channel.
 */
import { ApiError } from '../../core/errors.js';

export class UnsupportedRequestError extends ApiError {
  constructor(message: string, options: { param?: string } = {}) {
    super('bad_request', message, options);
    this.name = 'UnsupportedRequestError';
  }
}
