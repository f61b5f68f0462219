/**
 * Azure OpenAI adapter: OpenAI's wire format at a resource endpoint, dated (classic) or v1 API form.
 * Reference: PROTOCOLS.md §2.
 */

import { OPENAI_PROMPT_OVERHEAD } from '../openai/api.js';
import type { ProviderAdapter } from '../types.js';
import { AZURE_DEFAULT_API_VERSION, AZURE_DEFAULT_BASE_URL } from './api.js';
import { buildAzureChatRequest, parseAzureChatResponse } from './chat.js';
import { buildAzureEmbeddingsRequest, parseAzureEmbeddingsResponse } from './embeddings.js';
import { parseAzureError } from './errors.js';
import { buildAzureForwardedRequest } from './forwarded.js';
import { buildAzureMediaRequest } from './media.js';
import { azureModelList } from './models.js';
import { createAzureStreamTranslator } from './stream.js';

/**
 * @example
 * // channel: baseUrl https://my-res.openai.azure.com, upstreamModel gpt-4o, options { apiVersion: '2024-10-21' }
 * azureOpenaiAdapter.buildChatRequest(request, target).url
 * // https://my-res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21
 */
export const azureOpenaiAdapter: ProviderAdapter = {
  id: 'azure-openai',
  label: 'Azure OpenAI',
  key: 'required',
  baseUrl: { mode: 'required', default: AZURE_DEFAULT_BASE_URL || null, example: 'https://NAME.openai.azure.com' },
  options: [
    { key: 'apiVersion', kind: 'text', placeholder: AZURE_DEFAULT_API_VERSION, default: AZURE_DEFAULT_API_VERSION },
    { key: 'deployment', kind: 'text' },
    { key: 'apiMode', kind: 'select', choices: ['v1'] },
    { key: 'auth', kind: 'select', choices: ['api-key', 'bearer'] },
  ],
  endpoints: [
    'chat',
    'embeddings',
    'completions',
    'image_generations',
    'image_edits',
    'transcriptions',
    'translations',
    'speech',
  ],
  passThrough: [],
  openaiCompatible: true,
  // Azure serves OpenAI's models with OpenAI's chat template.
  promptOverhead: OPENAI_PROMPT_OVERHEAD,
  buildChatRequest: buildAzureChatRequest,
  parseChatResponse: parseAzureChatResponse,
  createStreamTranslator: createAzureStreamTranslator,
  buildEmbeddingsRequest: buildAzureEmbeddingsRequest,
  parseEmbeddingsResponse: parseAzureEmbeddingsResponse,
  parseError: parseAzureError,
  buildForwardedRequest: buildAzureForwardedRequest,
  modelList: azureModelList,
  buildMediaRequest: buildAzureMediaRequest,
};

export {
  AZURE_DEFAULT_API_VERSION,
  AZURE_DEFAULT_BASE_URL,
  azureAuthHeaders,
  azureDeployment,
  azureUrl,
  isV1,
} from './api.js';
export { AZURE_PROVIDER_NAME, buildAzureChatRequest, parseAzureChatResponse } from './chat.js';
export { buildAzureEmbeddingsRequest, parseAzureEmbeddingsResponse } from './embeddings.js';
export { parseAzureError } from './errors.js';
export { createAzureStreamTranslator } from './stream.js';
