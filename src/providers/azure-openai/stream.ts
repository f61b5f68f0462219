/**
 * Azure OpenAI streams: OpenAI's translator, which already drops Azure's prompt-annotation chunk
 * (empty `choices`, empty `id`, `created: 0`) and delta-less content-filter annotations, and keeps an
 * annotation that ends a choice with `finish_reason: "content_filter"`. Reference: PROTOCOLS.md §2.3.
 */
import { createOpenAiStreamTranslator } from '../openai/stream.js';
import type { ChatRequest, StreamTranslator } from '../types.js';
import { AZURE_PROVIDER_NAME } from './chat.js';

export function createAzureStreamTranslator(
  request: ChatRequest,
  ids: { id: string; created: number },
): StreamTranslator {
  return createOpenAiStreamTranslator(request, ids, { provider: AZURE_PROVIDER_NAME });
}
