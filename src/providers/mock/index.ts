/**
 * The built-in mock provider: a deterministic fake model for demos, tests and load tests. It never
 * touches the network; the gateway serves it in-process through `mockAdapter.inProcess` (see
 * shared/in-process.ts). Its HTTP-building methods throw; its parsing methods are OpenAI's, so mock
 * output can also be run through the ordinary OpenAI-format path.
 */
import { parseOpenAiChatResponse } from '../openai/chat.js';
import { parseOpenAiEmbeddingsResponse } from '../openai/embeddings.js';
import { parseOpenAiError } from '../openai/errors.js';
import { createOpenAiStreamTranslator } from '../openai/stream.js';
import type { InProcessAdapter } from '../shared/in-process.js';
import type { UpstreamHttpRequest } from '../types.js';
import { mockChatCompletion } from './chat.js';
import { mockEmbedding } from './embeddings.js';
import { mockChatChunks } from './stream.js';
import { MESSAGE_OVERHEAD_TOKENS } from './tokens.js';

export const MOCK_PROVIDER_NAME = 'Mock';

/** Thrown if something tries to send a mock request over HTTP. */
export class MockServedInProcessError extends Error {
  constructor() {
    super('mock is served in-process');
    this.name = 'MockServedInProcessError';
  }
}

function servedInProcess(): UpstreamHttpRequest {
  throw new MockServedInProcessError();
}

/**
 * @example
 * if (adapter.inProcess) return adapter.inProcess.chat(request, { id, created });
 */
export const mockAdapter: InProcessAdapter = {
  id: 'mock',
  label: 'Mock (demo)',
  key: 'none',
  baseUrl: { mode: 'none', default: null },
  options: [{ key: 'chunkDelayMs', kind: 'number', placeholder: '0', default: '0' }],
  endpoints: ['chat', 'embeddings'],
  passThrough: [],
  openaiCompatible: true,
  // The mock bills MESSAGE_OVERHEAD_TOKENS a message and nothing else (tokens.ts).
  promptOverhead: { perRequest: 0, perMessage: MESSAGE_OVERHEAD_TOKENS, withTools: 0 },
  buildChatRequest: servedInProcess,
  parseChatResponse: (body, request) => parseOpenAiChatResponse(body, request, MOCK_PROVIDER_NAME),
  createStreamTranslator: (request, ids) =>
    createOpenAiStreamTranslator(request, ids, { provider: MOCK_PROVIDER_NAME }),
  buildEmbeddingsRequest: servedInProcess,
  parseEmbeddingsResponse: (body, request) => parseOpenAiEmbeddingsResponse(body, request, MOCK_PROVIDER_NAME),
  parseError: (status, body, headers) => parseOpenAiError(status, body, headers, MOCK_PROVIDER_NAME),
  inProcess: {
    chat: mockChatCompletion,
    chatChunks: mockChatChunks,
    embeddings: mockEmbedding,
    chunkDelayMs: (options) => Number(options.chunkDelayMs ?? 0),
  },
};

export { type MockAnswer, mockToolCallId, planMockAnswer } from './answer.js';
export { mockChatCompletion } from './chat.js';
export { MOCK_EMBEDDING_DIMENSIONS, mockEmbedding, mockVector } from './embeddings.js';
export { mockChatChunks } from './stream.js';
export { estimateMockTokens, estimatePromptTokens, MESSAGE_OVERHEAD_TOKENS, truncateToTokens } from './tokens.js';
