/**
 * Adapter for OpenAI-compatible servers: DeepSeek, Moonshot (Kimi), Qwen/DashScope, Ollama, vLLM,
 * OpenRouter and the like. Reference: PROTOCOLS.md §5.
 */
import type { ProviderAdapter } from '../types.js';
import { COMPATIBLE_DEFAULT_BASE_URL } from './api.js';
import { buildCompatibleChatRequest, parseCompatibleChatResponse } from './chat.js';
import { buildCompatibleEmbeddingsRequest, parseCompatibleEmbeddingsResponse } from './embeddings.js';
import { parseCompatibleError } from './errors.js';
import { createCompatibleStreamTranslator } from './stream.js';

/**
 * @example
 * // channel: baseUrl http://localhost:11434/v1, apiKey '' (Ollama)
 * openaiCompatibleAdapter.buildChatRequest(request, target).headers // no Authorization header
 */
export const openaiCompatibleAdapter: ProviderAdapter = {
  id: 'openai-compatible',
  defaultBaseUrl: COMPATIBLE_DEFAULT_BASE_URL,
  openaiCompatible: true,
  buildChatRequest: buildCompatibleChatRequest,
  parseChatResponse: parseCompatibleChatResponse,
  createStreamTranslator: createCompatibleStreamTranslator,
  buildEmbeddingsRequest: buildCompatibleEmbeddingsRequest,
  parseEmbeddingsResponse: parseCompatibleEmbeddingsResponse,
  parseError: parseCompatibleError,
};

export { COMPATIBLE_DEFAULT_BASE_URL, COMPATIBLE_PROVIDER_NAME } from './api.js';
export { buildCompatibleChatRequest, parseCompatibleChatResponse, toCompatibleRequestBody } from './chat.js';
export { buildCompatibleEmbeddingsRequest, parseCompatibleEmbeddingsResponse } from './embeddings.js';
export { parseCompatibleError } from './errors.js';
export { createCompatibleStreamTranslator } from './stream.js';
