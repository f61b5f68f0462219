/**
 * OpenAI Chat Completions adapter. The canonical format is OpenAI's, so this adapter passes requests
 * through with the upstream model and normalises what comes back. Reference: PROTOCOLS.md §1.
 */
import { openAiModelList } from '../shared/account.js';
import type { ProviderAdapter } from '../types.js';
import { bearerAuth, OPENAI_DEFAULT_BASE_URL, OPENAI_PROMPT_OVERHEAD } from './api.js';
import { buildOpenAiChatRequest, parseOpenAiChatResponse } from './chat.js';
import { buildOpenAiEmbeddingsRequest, parseOpenAiEmbeddingsResponse } from './embeddings.js';
import { parseOpenAiError } from './errors.js';
import { buildOpenAiForwardedRequest } from './forwarded.js';
import { buildOpenAiMediaRequest } from './media.js';
import { buildOpenAiResponsesRequest } from './responses/passthrough.js';
import { createOpenAiStreamTranslator } from './stream.js';

/**
 * @example
 * const http = openaiAdapter.buildChatRequest(request, target); // POST https://api.openai.com/v1/chat/completions
 * const completion = openaiAdapter.parseChatResponse(JSON.parse(body), request);
 */
export const openaiAdapter: ProviderAdapter = {
  id: 'openai',
  label: 'OpenAI',
  key: 'required',
  baseUrl: { mode: 'default', default: OPENAI_DEFAULT_BASE_URL },
  options: [],
  endpoints: [
    'chat',
    'embeddings',
    'moderations',
    'completions',
    'image_generations',
    'image_edits',
    'transcriptions',
    'translations',
    'speech',
  ],
  // OpenAI's own answers go to OpenAI clients byte for byte; other OpenAI-compatible servers vary (reasoning
  // field names, usage shapes, `choices: null`, filter annotations) and go through the translator.
  passThrough: ['chat'],
  openaiCompatible: true,
  promptOverhead: OPENAI_PROMPT_OVERHEAD,
  buildChatRequest: buildOpenAiChatRequest,
  parseChatResponse: (body, request) => parseOpenAiChatResponse(body, request),
  createStreamTranslator: (request, ids) => createOpenAiStreamTranslator(request, ids),
  buildEmbeddingsRequest: buildOpenAiEmbeddingsRequest,
  parseEmbeddingsResponse: (body, request) => parseOpenAiEmbeddingsResponse(body, request),
  parseError: (status, body, headers) => parseOpenAiError(status, body, headers),
  buildForwardedRequest: buildOpenAiForwardedRequest,
  buildMediaRequest: buildOpenAiMediaRequest,
  responses: { buildRequest: buildOpenAiResponsesRequest },
  modelList: openAiModelList(bearerAuth),
};

export { bearerAuth, OPENAI_DEFAULT_BASE_URL, OPENAI_PROMPT_OVERHEAD } from './api.js';
export { buildOpenAiChatRequest, parseOpenAiChatResponse, readFinishReason, toOpenAiRequestBody } from './chat.js';
export { buildOpenAiEmbeddingsRequest, parseOpenAiEmbeddingsResponse } from './embeddings.js';
export { openAiStreamErrorInfo, parseOpenAiError } from './errors.js';
export { buildOpenAiForwardedRequest } from './forwarded.js';
export { buildOpenAiMediaRequest } from './media.js';
export { createOpenAiStreamTranslator, type OpenAiStreamOptions } from './stream.js';
