/**
 * Google Gemini API adapter (generativelanguage v1beta, `generateContent`). Reference: PROTOCOLS.md §4.
 */

import type { ProviderAdapter } from '../types.js';
import { GEMINI_DEFAULT_BASE_URL } from './api.js';
import { buildGeminiChatRequest } from './chat.js';
import { buildGeminiEmbeddingsRequest, parseGeminiEmbeddingsResponse } from './embeddings.js';
import { parseGeminiError } from './errors.js';
import { buildImagenRequest, parseImagenResponse } from './imagen.js';
import { geminiModelList } from './models.js';
import { parseGeminiResponse } from './response.js';
import { createGeminiStreamTranslator } from './stream.js';

/**
 * @example
 * geminiAdapter.buildChatRequest({ ...request, stream: true }, target).url
 * // https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
 */
export const geminiAdapter: ProviderAdapter = {
  id: 'gemini',
  label: 'Google Gemini',
  key: 'required',
  baseUrl: { mode: 'default', default: GEMINI_DEFAULT_BASE_URL },
  options: [],
  // Image generation on Imagen models (`:predict`); no image edits or audio APIs.
  endpoints: ['chat', 'embeddings', 'image_generations'],
  passThrough: [],
  openaiCompatible: false,
  /*
   * Gemini bills almost no template: its token guide's example counts "The quick brown fox jumps over the
   * lazy dog." as 10 tokens with countTokens and 11 as generateContent's promptTokenCount. That 1 is taken
   * both per request and per message (one spare for a single-turn prompt).
   */
  promptOverhead: { perRequest: 1, perMessage: 1, withTools: 0 },
  buildChatRequest: buildGeminiChatRequest,
  parseChatResponse: (body, request) => parseGeminiResponse(body, request),
  createStreamTranslator: createGeminiStreamTranslator,
  buildEmbeddingsRequest: buildGeminiEmbeddingsRequest,
  parseEmbeddingsResponse: parseGeminiEmbeddingsResponse,
  parseError: parseGeminiError,
  modelList: geminiModelList,
  buildMediaRequest: buildImagenRequest,
  parseMediaResponse: parseImagenResponse,
};

export { GEMINI_DEFAULT_BASE_URL, geminiAuthHeaders, geminiModelPath, geminiUrl } from './api.js';
export {
  buildGeminiChatRequest,
  THINKING_BUDGETS,
  thinkingConfigFor,
  toGeminiRequestBody,
  toToolConfig,
} from './chat.js';
export { SKIP_THOUGHT_SIGNATURE, toGeminiContents } from './contents.js';
export { buildGeminiEmbeddingsRequest, parseGeminiEmbeddingsResponse } from './embeddings.js';
export { geminiStreamErrorInfo, parseGeminiError } from './errors.js';
export { GEMINI_PROVIDER_NAME, geminiFinishReason, parseGeminiResponse, readUsageMetadata } from './response.js';
export { toGeminiParameters, toGeminiSchema } from './schema.js';
export { createGeminiStreamTranslator } from './stream.js';
export type * from './types.js';
