import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../core/errors.js';
import type { ChatCompletionChunk, ChatRequest, EmbeddingsRequest, UpstreamErrorInfo } from '../providers/types.js';
import {
  approximatePromptTokens,
  countTokens,
  countTokensOf,
  fromUsage,
  promptShape,
  requestedMaxOutput,
  type TokenCounts,
} from './accounting.js';
import type { Caller } from './caller.js';
import type { StreamSink } from './chat.js';
import { ClientStream } from './client-stream.js';
import { clientFault, UpstreamFailure } from './dispatch.js';
import type { Gateway } from './gateway.js';
import { checkOpenAiChat, checkOpenAiEmbeddings } from './request-checks.js';
import { readText } from './upstream.js';

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

/** OpenAI SSE: `data: {chunk}` events, `data: [DONE]` at the end, `data: {"error":…}` on failure. */
export const openAiSink: StreamSink = {
  acceptsRaw: true,
  raw: (data) => `data: ${data}\n\n`,
  chunk: (chunk: ChatCompletionChunk) => `data: ${JSON.stringify(chunk)}\n\n`,
  end: () => 'data: [DONE]\n\n',
  error: (info: UpstreamErrorInfo) =>
    `data: ${JSON.stringify({ error: { message: info.message, type: info.status === 429 ? 'rate_limit_error' : 'api_error', param: null, code: info.code } })}\n\n`,
};

/**
 * Run one OpenAI chat completion (streamed or not) for `caller`, or for the request's API key when null.
 * Shared by /v1/chat/completions and the console's playground.
 */
export async function chatCompletion(
  gateway: Gateway,
  request: FastifyRequest,
  reply: FastifyReply,
  caller: Caller | null,
): Promise<unknown> {
  checkOpenAiChat(request.body);
  const body = request.body as ChatRequest;
  const estimate = () => ({
    promptTokens: approximatePromptTokens(body),
    shape: promptShape(body),
    maxOutputTokens: requestedMaxOutput(body),
    choices: typeof body.n === 'number' ? body.n : 1,
  });
  const stream = body.stream === true;
  const { ledger } = caller
    ? await gateway.beginAs(caller, request, body.model, 'chat', stream, estimate)
    : await gateway.begin(request, body.model, 'chat', stream, estimate);
  const client = new ClientStream(reply, () => gateway.responseHeaders(ledger));
  try {
    if (stream) {
      ledger.recordStream(client);
      await gateway.chat.stream(body, ledger, openAiSink, client);
      return reply;
    }
    const { completion, raw } = await gateway.chat.completeForOpenAi(body, ledger, client);
    ledger.respondedWith(raw ?? completion);
    ledger.settle(200, null, completion.usage ? fromUsage(completion.usage) : gateway.estimate(body, completion));
    reply.headers(gateway.responseHeaders(ledger));
    if (raw === undefined) return completion;
    // The upstream's own bytes: an OpenAI answer needs no translation, and re-serialising it costs CPU.
    reply.type('application/json; charset=utf-8');
    return raw;
  } catch (error) {
    throw gateway.fail(ledger, error);
  }
}

/** POST /v1/chat/completions, GET /v1/models, GET /v1/models/{id}, POST /v1/embeddings. */
export function registerOpenAiRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.post(
    '/v1/chat/completions',
    // No body schema: checkOpenAiChat checks types without coercion (and without Ajv's cost).
    { schema: { hide: true } },
    (request: FastifyRequest, reply: FastifyReply) => chatCompletion(gateway, request, reply, null),
  );

  app.get('/v1/models', { schema: { hide: true } }, async (request) => {
    const caller = await gateway.authenticate(request);
    return { object: 'list', data: gateway.visibleModels(caller).map(toModelObject) };
  });

  app.get<{ Params: { '*': string } }>('/v1/models/*', { schema: { hide: true } }, async (request) => {
    const caller = await gateway.authenticate(request);
    const id = request.params['*'];
    const model = gateway.visibleModels(caller).find((m) => m.name === id);
    if (!model)
      throw new ApiError('model_not_found', `The model '${id}' does not exist or you do not have access to it`, {
        param: 'model',
      });
    return toModelObject(model);
  });

  app.post('/v1/embeddings', { schema: { hide: true } }, async (request, reply) => {
    checkOpenAiEmbeddings(request.body);
    const body = request.body as EmbeddingsRequest;
    const { ledger } = await gateway.begin(request, body.model, 'embeddings', false, () => ({
      promptTokens: Math.ceil(JSON.stringify(body.input).length / 3),
      maxOutputTokens: 0,
    }));
    const client = new ClientStream(reply);
    try {
      const result = await gateway.dispatcher.run(ledger, client, async (attempt) => {
        const { channel } = attempt.target;
        const { adapter } = channel;
        const inProcess = adapter.inProcess;
        if (inProcess && adapter.endpoints.includes('embeddings'))
          return clientFault(() => inProcess.embeddings({ ...body, model: attempt.upstream.upstreamModel }));
        const buildEmbeddings = adapter.buildEmbeddingsRequest;
        if (!buildEmbeddings || !adapter.parseEmbeddingsResponse || !adapter.endpoints.includes('embeddings')) {
          throw new UpstreamFailure({
            status: 400,
            code: 'bad_request',
            message: `Channel ${channel.name} (${channel.type}) does not serve embeddings`,
            retryable: true,
          });
        }
        const http = clientFault(() => buildEmbeddings.call(adapter, body, attempt.upstream));
        const res = await gateway.upstream.send(http, channel.timeouts, attempt.signal);
        attempt.upstreamStatus = res.status;
        if (res.status >= 400)
          throw new UpstreamFailure(adapter.parseError(res.status, await readText(res.body), res.headers));
        return adapter.parseEmbeddingsResponse(JSON.parse(await res.body.text()), body);
      });
      const reported = result.usage?.prompt_tokens;
      const tokens = (prompt: number): TokenCounts => ({
        prompt,
        completion: 0,
        cached: 0,
        reasoning: 0,
        estimated: reported === undefined,
      });
      ledger.respondedWith(result);
      ledger.settle(
        200,
        null,
        reported === undefined ? estimateInputTokens(body.input).then(tokens) : tokens(reported),
      );
      reply.headers(gateway.responseHeaders(ledger));
      return result;
    } catch (error) {
      throw gateway.fail(ledger, error);
    }
  });
}

/** Tokens of an embeddings input: strings counted by the tokenizer, token arrays by their length. */
async function estimateInputTokens(input: EmbeddingsRequest['input']): Promise<number> {
  if (typeof input === 'string') return countTokens(input);
  const texts: string[] = [];
  let total = 0;
  for (const item of input) {
    if (typeof item === 'string') texts.push(item);
    else total += Array.isArray(item) ? item.length : 1;
  }
  for (const count of await countTokensOf(texts)) total += count;
  return total;
}

function toModelObject(model: { name: string; createdAt: number }) {
  return { id: model.name, object: 'model', created: Math.floor(model.createdAt / 1000), owned_by: 'aihub' };
}
