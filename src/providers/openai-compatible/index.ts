/**
 * Adapter for OpenAI-compatible servers: DeepSeek, Moonshot (Kimi), Qwen/DashScope, Ollama, vLLM,
 * OpenRouter and the like. Reference: PROTOCOLS.md §5.
 */
import { bearerAuth } from '../openai/api.js';
import { buildOpenAiForwardedRequest } from '../openai/forwarded.js';
import { buildOpenAiMediaRequest } from '../openai/media.js';
import { openAiModelList } from '../shared/account.js';
import type { ProviderAdapter } from '../types.js';
import { COMPATIBLE_DEFAULT_BASE_URL } from './api.js';
import { BALANCE_APIS, compatibleBalance } from './balance.js';
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
  label: 'OpenAI-compatible',
  key: 'optional',
  baseUrl: { mode: 'required', default: COMPATIBLE_DEFAULT_BASE_URL || null, example: 'https://api.deepseek.com/v1' },
  options: [
    {
      key: 'maxTokensField',
      kind: 'select',
      choices: ['both', 'max_tokens', 'max_completion_tokens'],
      default: 'both',
    },
    { key: 'reasoningHistory', kind: 'select', choices: ['keep', 'drop'], default: 'keep' },
    // Which account-balance API the server has (auto: DeepSeek and OpenRouter by host, else New API / One API).
    { key: 'balanceApi', kind: 'select', choices: BALANCE_APIS, default: 'auto' },
  ],
  // Moderations, legacy completions, rerank, images and audio where the server has them (vLLM serves
  // completions, rerank and transcriptions; LocalAI and Speaches serve images and audio).
  endpoints: [
    'chat',
    'embeddings',
    'moderations',
    'completions',
    'rerank',
    'image_generations',
    'image_edits',
    'transcriptions',
    'translations',
    'speech',
  ],
  passThrough: [],
  openaiCompatible: true,
  /*
   * The server applies the model's own chat template, unknown here; the figures cover the common open-model
   * templates (their tokenizer_config.json): Llama 3.1 opens every prompt with a system header ("Cutting
   * Knowledge Date: …", ~21 tokens with <|begin_of_text|>) and primes the reply with 4; Qwen2.5 adds a default
   * system prompt of ~20 and primes with 3. Each message is wrapped in 5 (<|start_header_id|>role
   * <|end_header_id|>\n\n … <|eot_id|>, <|im_start|>role\n … <|im_end|>\n). With tools, Qwen2.5's
   * template adds ~90 tokens of instructions, Llama 3.1's fewer.
   */
  promptOverhead: { perRequest: 26, perMessage: 5, withTools: 100 },
  buildChatRequest: buildCompatibleChatRequest,
  parseChatResponse: parseCompatibleChatResponse,
  createStreamTranslator: createCompatibleStreamTranslator,
  buildEmbeddingsRequest: buildCompatibleEmbeddingsRequest,
  parseEmbeddingsResponse: parseCompatibleEmbeddingsResponse,
  parseError: parseCompatibleError,
  buildForwardedRequest: buildOpenAiForwardedRequest,
  modelList: openAiModelList(bearerAuth),
  balance: compatibleBalance,
  buildMediaRequest: buildOpenAiMediaRequest,
};

export { COMPATIBLE_DEFAULT_BASE_URL, COMPATIBLE_PROVIDER_NAME } from './api.js';
export { buildCompatibleChatRequest, parseCompatibleChatResponse, toCompatibleRequestBody } from './chat.js';
export { buildCompatibleEmbeddingsRequest, parseCompatibleEmbeddingsResponse } from './embeddings.js';
export { parseCompatibleError } from './errors.js';
export { createCompatibleStreamTranslator } from './stream.js';
