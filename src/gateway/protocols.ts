import type { ApiError } from '../core/errors.js';
import { errorPayload } from '../http/errors.js';

/** The /v1 endpoint kinds, as the request log records them. */
export type EndpointKind = 'chat' | 'messages' | 'embeddings' | 'responses';

/**
 * The body of an error answer in the endpoint's own protocol: /v1/messages answers as Anthropic's API does,
 * every other /v1 endpoint as OpenAI's. (These are wire protocols, not providers.)
 */
export function errorBodyFor(endpoint: EndpointKind, error: ApiError, requestId: string): object {
  return errorPayload(endpoint === 'messages' ? 'anthropic' : 'openai', error, requestId);
}
