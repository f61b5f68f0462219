/** POST /v1/chat/completions (and the console's playground): OpenAI Chat Completions, streamed or not. */
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, UpstreamErrorInfo } from '../../providers/types.js';
import { approximatePromptTokens, fromUsage, promptShape, requestedMaxOutput } from '../accounting.js';
import { completeChat, type StreamSink, streamChat } from '../pipeline/chat-attempt.js';
import { estimateCompletion } from '../pipeline/settle.js';
import { checkOpenAiChat } from '../request-checks.js';
import type { Endpoint } from './endpoint.js';

/** OpenAI SSE: `data: {chunk}` events, `data: [DONE]` at the end, `data: {"error":…}` on failure. */
export const openAiSink: StreamSink = {
  acceptsRaw: true,
  raw: (data) => `data: ${data}\n\n`,
  chunk: (chunk: ChatCompletionChunk) => `data: ${JSON.stringify(chunk)}\n\n`,
  end: () => 'data: [DONE]\n\n',
  error: (info: UpstreamErrorInfo) =>
    `data: ${JSON.stringify({ error: { message: info.message, type: info.status === 429 ? 'rate_limit_error' : 'api_error', param: null, code: info.code } })}\n\n`,
};

/** The playground's body schema (the /v1 route has none: checkOpenAiChat checks types without coercion). */
export const ChatBody = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    messages: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['role'], properties: { role: { type: 'string' } } },
    },
    stream: { type: 'boolean' },
  },
} as const;

/** A non-stream completion (and the upstream's bytes when forwardable); nothing for a stream. */
type ChatResult = { completion: ChatCompletion; raw: string | undefined } | undefined;

export const chatCompletions: Endpoint<ChatRequest, ChatResult> = {
  kind: 'chat',
  accept(request) {
    checkOpenAiChat(request.body);
    return request.body as ChatRequest;
  },
  model: (body) => body.model,
  streams: (body) => body.stream === true,
  estimate: (body) => ({
    promptTokens: approximatePromptTokens(body),
    shape: promptShape(body),
    maxOutputTokens: requestedMaxOutput(body),
    choices: typeof body.n === 'number' ? body.n : 1,
  }),
  sink: () => openAiSink,
  attempt(x, attempt) {
    if (x.sink) return streamChat(x.upstream, x.call, x.ledger, x.sink, x.client, attempt);
    return completeChat(x.upstream, x.call, x.ledger, attempt, true);
  },
  answer(body, result) {
    if (!result) throw new Error('a non-stream chat attempt returned no completion');
    const { completion, raw } = result;
    return {
      body: completion,
      raw,
      tokens: completion.usage ? fromUsage(completion.usage) : estimateCompletion(body, completion),
    };
  },
};
