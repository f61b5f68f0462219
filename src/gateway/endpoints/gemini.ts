/**
 * The Gemini API as an inbound protocol (Google's SDKs with their base URL pointed at the hub):
 * `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`, `:countTokens` and
 * `:embedContent`, translated to the canonical requests and served by any channel (chat: every provider;
 * embeddings: providers that declare them). Errors in Google's shape (../protocols.ts).
 * Reference: https://ai.google.dev/api/generate-content, …/tokens, …/embeddings.
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import {
  chatToGeminiResponse,
  createGeminiStreamEncoder,
  geminiRequestToChat,
} from '../../providers/gemini/inbound.js';
import type { ChatCompletion, ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from '../../providers/types.js';
import {
  approximatePromptTokens,
  fromUsage,
  OutputAccumulator,
  promptShape,
  requestedMaxOutput,
  ZERO_TOKENS,
} from '../accounting.js';
import { completeChat, streamChat } from '../pipeline/chat-attempt.js';
import { clientFault } from '../pipeline/failure.js';
import { estimateCompletion } from '../pipeline/settle.js';
import { embeddings } from './embeddings.js';
import type { Endpoint } from './endpoint.js';

/** `{model}:{method}` of a /v1beta/models/* path (the model may contain `/`, the method never `:`). */
export function modelAndMethod(request: FastifyRequest): { model: string; method: string } {
  const path = (request.params as { '*'?: string })['*'] ?? '';
  const at = path.lastIndexOf(':');
  if (at <= 0) throw new ApiError('not_found', `No route for ${request.method} /v1beta/models/${path}`);
  return { model: decodeURIComponent(path.slice(0, at)), method: path.slice(at + 1) };
}

interface GenerateCall {
  model: string;
  chat: ChatRequest;
  stream: boolean;
}

export const generateContent: Endpoint<GenerateCall, ChatCompletion | undefined> = {
  kind: 'generate_content',
  accept(request) {
    const { model, method } = modelAndMethod(request);
    const stream = method === 'streamGenerateContent';
    const chat = clientFault(() => geminiRequestToChat(request.body, model));
    if (stream) {
      chat.stream = true;
      chat.stream_options = { include_usage: true };
    }
    return { model, chat, stream };
  },
  model: (call) => call.model,
  streams: (call) => call.stream,
  estimate: ({ chat }) => ({
    promptTokens: approximatePromptTokens(chat),
    shape: promptShape(chat),
    maxOutputTokens: requestedMaxOutput(chat),
    choices: typeof chat.n === 'number' ? chat.n : 1,
  }),
  sink(call, ledger) {
    const encoder = createGeminiStreamEncoder(call.model, ledger.ctx.requestId);
    return {
      acceptsRaw: false,
      raw: () => '',
      chunk: (chunk) => encoder.push(chunk),
      end: (usage) => encoder.end(usage),
      error: (info) => encoder.error(info),
    };
  },
  async attempt(x, attempt) {
    if (x.sink) return streamChat(x.upstream, x.call.chat, x.ledger, x.sink, x.client, attempt);
    return (await completeChat(x.upstream, x.call.chat, x.ledger, attempt, false)).completion;
  },
  answer(call, completion) {
    if (!completion) throw new Error('a non-stream generateContent attempt returned no completion');
    return {
      body: chatToGeminiResponse(completion, call.model),
      tokens: completion.usage ? fromUsage(completion.usage) : estimateCompletion(call.chat, completion),
    };
  },
};

/** `:countTokens`: `{ contents }` or `{ generateContentRequest }`, counted locally; free, as Google's is. */
export const geminiCountTokens: Endpoint<{ model: string; chat: ChatRequest }, { totalTokens: number }> = {
  kind: 'gemini_count_tokens',
  accept(request) {
    const { model } = modelAndMethod(request);
    const body = request.body as { generateContentRequest?: unknown } | null;
    const inner = body && typeof body === 'object' && body.generateContentRequest ? body.generateContentRequest : body;
    return { model, chat: clientFault(() => geminiRequestToChat(inner, model)) };
  },
  model: (call) => call.model,
  streams: () => false,
  estimate: () => ({ promptTokens: 0, maxOutputTokens: 0 }),
  sink: () => undefined,
  async attempt(x) {
    x.ledger.markFirstToken();
    const { prompt } = await new OutputAccumulator().estimate(x.call.chat);
    return { totalTokens: prompt };
  },
  answer: (_call, counted) => ({ body: counted, tokens: ZERO_TOKENS }),
};

/** The text of a Gemini `Content` (`{ parts: [{ text }] }`), or the client's 400. */
function contentText(content: unknown, param: string): string {
  const parts = (content as { parts?: unknown } | null | undefined)?.parts;
  if (!Array.isArray(parts) || parts.length === 0)
    throw new ApiError('validation_failed', `${param}.parts must be a non-empty array`, { param });
  return parts
    .map((p) => (typeof (p as { text?: unknown })?.text === 'string' ? (p as { text: string }).text : ''))
    .join('');
}

/**
 * `:embedContent` (`{ content, outputDimensionality? }` → `{ embedding: { values } }`) and
 * `:batchEmbedContents` (`{ requests: [...] }` → `{ embeddings: [{ values }] }`, what @google/genai's
 * `models.embedContent` calls), as one embeddings request (a batch is an array input).
 */
export const embedContent: Endpoint<EmbeddingsRequest, EmbeddingsResponse> = {
  kind: 'embed_content',
  accept(request) {
    const { model } = modelAndMethod(request);
    const body = (request.body ?? {}) as { content?: unknown; requests?: unknown; outputDimensionality?: unknown };
    let dimensions = body.outputDimensionality;
    let input: string | string[];
    if (Array.isArray(body.requests)) {
      if (body.requests.length === 0)
        throw new ApiError('validation_failed', 'requests must be a non-empty array', { param: 'requests' });
      input = body.requests.map((r, i) => contentText((r as { content?: unknown })?.content, `requests[${i}].content`));
      dimensions ??= (body.requests[0] as { outputDimensionality?: unknown })?.outputDimensionality;
    } else input = contentText(body.content, 'content');
    const call: EmbeddingsRequest = { model, input };
    if (typeof dimensions === 'number') call.dimensions = dimensions;
    return call;
  },
  model: (call) => call.model,
  streams: () => false,
  estimate: (call) => embeddings.estimate(call),
  sink: () => undefined,
  attempt: (x, attempt) => embeddings.attempt(x, attempt),
  answer(call, result) {
    const { tokens } = embeddings.answer(call, result);
    const values = result.data.map((d) => (Array.isArray(d.embedding) ? d.embedding : []));
    const body = Array.isArray(call.input)
      ? { embeddings: values.map((v) => ({ values: v })) }
      : { embedding: { values: values[0] ?? [] } };
    return { body, tokens };
  },
};

/** The endpoint of a `POST /v1beta/models/{model}:{method}` request. */
export function geminiEndpointFor(
  request: FastifyRequest,
): typeof generateContent | typeof geminiCountTokens | typeof embedContent {
  const { method } = modelAndMethod(request);
  if (method === 'generateContent' || method === 'streamGenerateContent') return generateContent;
  if (method === 'countTokens') return geminiCountTokens;
  if (method === 'embedContent' || method === 'batchEmbedContents') return embedContent;
  throw new ApiError(
    'not_found',
    `Method ${method} is not served; use generateContent, streamGenerateContent, countTokens or embedContent`,
  );
}

/** A model as Gemini's models.list shows it. */
export function toGeminiModel(model: { name: string; capabilities: string[] }) {
  const embeds = model.capabilities.includes('embeddings');
  return {
    name: `models/${model.name}`,
    version: '001',
    displayName: model.name,
    supportedGenerationMethods: embeds ? ['embedContent'] : ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}
