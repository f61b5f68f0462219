/**
 * Anthropic Messages API adapter (upstream direction) and the translators behind the gateway's own
 * Anthropic-compatible `/v1/messages` endpoint (inbound direction).
 */

import type { ProviderAdapter } from '../types.js';
import { ANTHROPIC_DEFAULT_BASE_URL } from './api.js';
import { buildChatRequest } from './chat-request.js';
import { parseChatResponse } from './chat-response.js';
import { buildAnthropicForwardedRequest } from './count-tokens.js';
import { parseError } from './errors.js';
import { anthropicModelList } from './models.js';
import { anthropicMessagesPassthrough } from './passthrough.js';
import { createStreamTranslator } from './stream.js';

/**
 * Pure transforms between canonical OpenAI chat and Anthropic Messages. Anthropic has no embeddings API,
 * so the embeddings methods are absent.
 *
 * @example
 * const http = anthropicAdapter.buildChatRequest(request, target); // POST https://api.anthropic.com/v1/messages
 */
export const anthropicAdapter: ProviderAdapter = {
  id: 'anthropic',
  label: 'Anthropic',
  key: 'required',
  baseUrl: { mode: 'default', default: ANTHROPIC_DEFAULT_BASE_URL },
  options: [],
  endpoints: ['chat', 'messages', 'count_tokens'],
  // /v1/messages bodies go to Anthropic as they came (thinking signatures, server tools survive).
  passThrough: ['messages'],
  openaiCompatible: false,
  /*
   * Anthropic publishes no per-message figure; measured: "Say hello there!" bills 11 input tokens on
   * claude-3-opus (anthropic-sdk-python's recorded basic_response.txt, our stream-text.sse), "Hi" 8 and
   * "Hello, Claude" 10 through count_tokens on claude-sonnet-4-6: ~7 tokens of framing for one message, split
   * here as 4 + 4 (one spare) so each further turn's role marker counts too. With tools, Anthropic's tool-use
   * docs list the hidden system prompt it adds: 346 tokens (tool_choice auto/none) on current models (the
   * recorded tool_use_response.txt bills 377 for a short prompt and one small tool).
   */
  promptOverhead: { perRequest: 4, perMessage: 4, withTools: 346 },
  buildChatRequest,
  parseChatResponse: (body, request) => parseChatResponse(body, request),
  createStreamTranslator,
  parseError,
  messages: anthropicMessagesPassthrough,
  buildForwardedRequest: buildAnthropicForwardedRequest,
  modelList: anthropicModelList,
};

export { buildChatRequest, DEFAULT_MAX_TOKENS, toAnthropicRequestBody } from './chat-request.js';
export { type CompletionIds, parseChatResponse } from './chat-response.js';
export { isUpstreamStreamError, parseError, UpstreamStreamError } from './errors.js';
export {
  type AnthropicStreamEncoder,
  anthropicRequestToChat,
  chatToAnthropicMessage,
  createAnthropicStreamEncoder,
  toAnthropicError,
} from './inbound.js';
export { createStreamTranslator } from './stream.js';
export type * from './types.js';
