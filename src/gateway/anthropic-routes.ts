import type { FastifyInstance } from 'fastify';
import { chatToAnthropicMessage, createAnthropicStreamEncoder } from '../providers/anthropic/inbound.js';
import type { AnthropicMessagesRequest } from '../providers/anthropic/types.js';
import type { ChatCompletionChunk, UpstreamErrorInfo } from '../providers/types.js';
import { approximatePromptTokens, fromUsage, promptShape, requestedMaxOutput } from './accounting.js';
import type { StreamSink } from './chat.js';
import { ClientStream } from './client-stream.js';
import { clientFault } from './dispatch.js';
import type { Gateway } from './gateway.js';
import { canonicalOf, type MessagesCall, MessagesService } from './messages.js';
import { checkAnthropicMessages } from './request-checks.js';

/** POST /v1/messages: the Anthropic Messages API over any upstream. */
export function registerAnthropicRoutes(app: FastifyInstance, gateway: Gateway): void {
  const messages = new MessagesService(gateway.dispatcher, gateway.upstream, gateway.chat);
  // No body schema: checkAnthropicMessages checks types without coercion (and without Ajv's cost).
  app.post('/v1/messages', { schema: { hide: true } }, async (request, reply) => {
    checkAnthropicMessages(request.body);
    const body = request.body as AnthropicMessagesRequest;
    const stream = body.stream === true;
    const { chat, untranslatable } = clientFault(() => canonicalOf(body));
    const { ledger } = await gateway.begin(request, body.model, 'messages', stream, () => ({
      promptTokens: approximatePromptTokens(chat),
      shape: promptShape(chat),
      maxOutputTokens: requestedMaxOutput(chat),
    }));
    const client = new ClientStream(reply, () => gateway.responseHeaders(ledger));
    const betas = request.headers['anthropic-beta'];
    const call: MessagesCall = {
      body,
      chat,
      untranslatable,
      betas: Array.isArray(betas) ? betas.join(',') : betas,
    };
    try {
      if (stream) {
        const encoder = createAnthropicStreamEncoder(body.model, { id: ledger.ctx.requestId });
        const sink: StreamSink = {
          acceptsRaw: false,
          raw: () => '',
          chunk: (chunk: ChatCompletionChunk) => encoder.push(chunk),
          end: (usage) => encoder.end(usage),
          error: (info: UpstreamErrorInfo) => encoder.error(info),
        };
        ledger.recordStream(client);
        await messages.stream(
          { ...call, chat: { ...chat, stream_options: { include_usage: true } } },
          ledger,
          sink,
          client,
        );
        return reply;
      }
      const answer = await messages.complete(call, ledger, client);
      if ('message' in answer) {
        // Same protocol upstream: its message as it came (only `model` is the requested name).
        ledger.respondedWith(answer.message);
        ledger.settle(200, null, fromUsage(answer.usage));
        reply.headers(gateway.responseHeaders(ledger));
        return answer.message;
      }
      const { completion } = answer;
      const message = chatToAnthropicMessage(completion, body.model);
      ledger.respondedWith(message);
      ledger.settle(200, null, completion.usage ? fromUsage(completion.usage) : gateway.estimate(chat, completion));
      reply.headers(gateway.responseHeaders(ledger));
      return message;
    } catch (error) {
      throw gateway.fail(ledger, error);
    }
  });
}
