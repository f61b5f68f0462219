/**
 * Streams from OpenAI-compatible servers: OpenAI's translator, which normalises `reasoning` /
 * `reasoning_details` to `reasoning_content`, reads `choices: null` (some vLLM builds) as `[]`, and
 * does not need a usage chunk (servers that do not support `include_usage` send none).
 * Reference: PROTOCOLS.md §5.
 */
import { createOpenAiStreamTranslator } from '../openai/stream.js';
import type { ChatRequest, StreamTranslator } from '../types.js';
import { COMPATIBLE_PROVIDER_NAME } from './api.js';

export function createCompatibleStreamTranslator(
  request: ChatRequest,
  ids: { id: string; created: number },
): StreamTranslator {
  return createOpenAiStreamTranslator(request, ids, { provider: COMPATIBLE_PROVIDER_NAME });
}
