import type { ApiError } from '../core/errors.js';
import { errorPayload } from '../http/errors.js';

/** The /v1 endpoint kinds, as the request log records them. */
export type EndpointKind =
  | 'chat'
  | 'messages'
  | 'embeddings'
  | 'count_tokens'
  | 'moderations'
  | 'completions'
  | 'rerank'
  | 'image_generations'
  | 'image_edits'
  | 'transcriptions'
  | 'translations'
  | 'speech'
  | 'generate_content'
  | 'gemini_count_tokens'
  | 'embed_content'
  | 'responses';

/** Endpoint kinds that answer in Anthropic's protocol (the rest answer in OpenAI's). */
const ANTHROPIC_KINDS: ReadonlySet<EndpointKind> = new Set(['messages', 'count_tokens']);
/** Endpoint kinds of the Gemini API (/v1beta), which answer in Google's error shape. */
const GOOGLE_KINDS: ReadonlySet<EndpointKind> = new Set(['generate_content', 'gemini_count_tokens', 'embed_content']);

/**
 * The body of an error answer in the endpoint's own protocol: /v1/messages (and its count_tokens) answer as
 * Anthropic's API does, every other /v1 endpoint as OpenAI's. (These are wire protocols, not providers.)
 */
export function errorBodyFor(endpoint: EndpointKind, error: ApiError, requestId: string): object {
  const protocol = ANTHROPIC_KINDS.has(endpoint) ? 'anthropic' : GOOGLE_KINDS.has(endpoint) ? 'google' : 'openai';
  return errorPayload(protocol, error, requestId);
}
