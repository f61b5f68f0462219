/**
 * POST /v1/messages: the Anthropic Messages API over any upstream. Per attempt: a channel whose adapter
 * declares `messages` pass-through gets the client's body as it came and its answer goes back as it came
 * (the same-protocol path, as OpenAI streams pass through, DESIGN.md §2 rule 4), so thinking signatures,
 * redacted_thinking and usage placement survive exactly; any other channel gets the canonical translation.
 * Failover may mix both: each attempt decides by its own channel.
 */
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ApiError } from '../../core/errors.js';
import {
  anthropicRequestToChat,
  chatToAnthropicMessage,
  createAnthropicStreamEncoder,
} from '../../providers/anthropic/inbound.js';
import type { AnthropicMessagesRequest } from '../../providers/anthropic/types.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  ChatUsage,
  JsonObject,
  MessagesBody,
  MessagesPassthrough,
  UpstreamErrorInfo,
} from '../../providers/types.js';
import {
  approximatePromptTokens,
  fromUsage,
  OutputAccumulator,
  promptShape,
  requestedMaxOutput,
  type TokenCounts,
} from '../accounting.js';
import { completeChat, type StreamSink, streamChat } from '../pipeline/chat-attempt.js';
import type { Attempt } from '../pipeline/dispatch.js';
import { CLIENT_CLOSED, clientFault, UpstreamFailure } from '../pipeline/failure.js';
import { estimateCompletion, settleBrokenStream } from '../pipeline/settle.js';
import { readText } from '../pipeline/upstream.js';
import { checkAnthropicMessages } from '../request-checks.js';
import type { Endpoint, Exchange } from './endpoint.js';

/** What the client of /v1/messages sent: its body as it came, the same request in canonical form, its betas. */
export interface MessagesCall {
  body: MessagesBody;
  /** The canonical request (for translated channels, and for estimates). */
  chat: ChatRequest;
  /** Why the body has no canonical form (e.g. a server tool): only a pass-through channel can serve it. */
  untranslatable?: ApiError | undefined;
  /** The client's `anthropic-beta` header. */
  betas: string | undefined;
  /** For a stream: the canonical request asking for usage (translated channels report it in the stream). */
  streamChat?: ChatRequest | undefined;
}

/**
 * The canonical form of a /v1/messages body. A body that uses what only Anthropic has (server tools, file
 * sources) cannot be translated, yet an Anthropic channel can serve it as it is: the refusal is kept for
 * the attempts that would need the translation, and a stand-in holding the body's text serves the
 * estimates (its size over-counts, which is what a budget reservation wants).
 */
export function canonicalOf(body: AnthropicMessagesRequest): Pick<MessagesCall, 'chat' | 'untranslatable'> {
  try {
    return { chat: anthropicRequestToChat(body) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const text = JSON.stringify([body.system ?? '', body.messages, body.tools ?? []]);
    const chat: ChatRequest = {
      model: body.model,
      max_tokens: body.max_tokens,
      messages: [{ role: 'user', content: text }],
    };
    if (body.stream === true) chat.stream = true;
    return { chat, untranslatable: error };
  }
}

/** A non-stream answer: the upstream's own message (same protocol) or a canonical completion to translate. */
export type MessagesAnswer = { message: JsonObject; usage: ChatUsage } | { completion: ChatCompletion };

/** A translated channel cannot serve an untranslatable body; another target (an Anthropic channel) may. */
function notHere(refusal: ApiError): UpstreamFailure {
  return new UpstreamFailure({ status: 400, code: 'bad_request', message: refusal.message, retryable: true });
}

/** One stream attempt on the same-protocol path: the upstream's events go to the client as they came. */
async function relayStream(
  x: Exchange<MessagesCall>,
  sink: StreamSink,
  passthrough: MessagesPassthrough,
  attempt: Attempt,
): Promise<undefined> {
  const { call, ledger, client } = x;
  const { channel } = attempt.target;
  const relay = passthrough.createRelay(call.body.model);
  /** The upstream's usage; if it broke off first, what it reported plus an estimate of the rest. */
  const tokens = (): TokenCounts | Promise<TokenCounts> => {
    const usage = relay.usage();
    if (usage) return fromUsage(usage);
    const output = new OutputAccumulator();
    const { text, reasoning } = relay.output();
    output.addText(text);
    output.addReasoning(reasoning);
    return output.estimate(call.chat, relay.reported());
  };
  let answered = false;
  try {
    const http = clientFault(() => passthrough.buildRequest(call.body, attempt.upstream, call.betas));
    const res = await x.upstream.send(http, channel.timeouts, attempt.signal);
    attempt.upstreamStatus = res.status;
    if (res.status >= 400)
      throw new UpstreamFailure(channel.adapter.parseError(res.status, await readText(res.body), res.headers));
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    const decoder = new StringDecoder('utf8');
    for await (const buf of res.body) {
      parser.feed(decoder.write(buf as Buffer));
      let out = '';
      for (const event of events) out += relay.push({ event: event.event, data: event.data });
      events.length = 0;
      if (answered || out === '') continue;
      ledger.markFirstToken();
      if (relay.finished) {
        // message_stop is in this read: the client's stream ends here; the loop only drains the upstream.
        client.end(out);
        answered = true;
      } else {
        const backpressure = client.write(out);
        if (backpressure) await backpressure;
      }
    }
    if (!relay.finished) {
      // Ending without message_stop is a cut: the client's SDK would otherwise take a partial message as whole.
      throw new UpstreamFailure({
        status: 502,
        code: 'upstream_error',
        message: `Upstream ${channel.name} ended the stream before message_stop`,
        retryable: true,
      });
    }
  } catch (error) {
    settleBrokenStream(error, { answered, ledger, sink, client, attempt, tokens });
    return;
  }
  if (client.gone && !answered) {
    ledger.settle(CLIENT_CLOSED, 'client_closed', tokens());
    return;
  }
  ledger.settle(200, null, tokens());
}

/** A non-stream attempt: the same-protocol relay where the adapter declares it, else the translation. */
async function completeMessages(x: Exchange<MessagesCall>, attempt: Attempt): Promise<MessagesAnswer> {
  const { call, ledger } = x;
  const { channel } = attempt.target;
  const passthrough = channel.adapter.passThrough.includes('messages') ? channel.adapter.messages : undefined;
  if (!passthrough) {
    if (call.untranslatable) throw notHere(call.untranslatable);
    return { completion: (await completeChat(x.upstream, call.chat, ledger, attempt, false)).completion };
  }
  const http = clientFault(() => passthrough.buildRequest(call.body, attempt.upstream, call.betas));
  const res = await x.upstream.send(http, channel.timeouts, attempt.signal);
  attempt.upstreamStatus = res.status;
  if (res.status >= 400)
    throw new UpstreamFailure(channel.adapter.parseError(res.status, await readText(res.body), res.headers));
  const text = await res.body.text();
  ledger.markFirstToken();
  return passthrough.relayMessage(JSON.parse(text) as unknown, call.body.model);
}

export const messages: Endpoint<MessagesCall, MessagesAnswer | undefined> = {
  kind: 'messages',
  accept(request) {
    checkAnthropicMessages(request.body);
    const body = request.body as AnthropicMessagesRequest;
    const { chat, untranslatable } = clientFault(() => canonicalOf(body));
    const betas = request.headers['anthropic-beta'];
    return {
      body,
      chat,
      untranslatable,
      betas: Array.isArray(betas) ? betas.join(',') : betas,
      streamChat: body.stream === true ? { ...chat, stream_options: { include_usage: true } } : undefined,
    };
  },
  model: (call) => call.body.model,
  streams: (call) => call.body.stream === true,
  estimate: ({ chat }) => ({
    promptTokens: approximatePromptTokens(chat),
    shape: promptShape(chat),
    maxOutputTokens: requestedMaxOutput(chat),
  }),
  sink(call, ledger) {
    const encoder = createAnthropicStreamEncoder(call.body.model, { id: ledger.ctx.requestId });
    return {
      acceptsRaw: false,
      raw: () => '',
      chunk: (chunk: ChatCompletionChunk) => encoder.push(chunk),
      end: (usage) => encoder.end(usage),
      error: (info: UpstreamErrorInfo) => encoder.error(info),
    };
  },
  attempt(x, attempt) {
    const { sink } = x;
    if (!sink) return completeMessages(x, attempt);
    const { adapter } = attempt.target.channel;
    const passthrough = adapter.passThrough.includes('messages') ? adapter.messages : undefined;
    if (passthrough) return relayStream(x, sink, passthrough, attempt);
    if (x.call.untranslatable) throw notHere(x.call.untranslatable);
    return streamChat(x.upstream, x.call.streamChat ?? x.call.chat, x.ledger, sink, x.client, attempt);
  },
  answer(call, result) {
    if (!result) throw new Error('a non-stream messages attempt returned no answer');
    // Same protocol upstream: its message as it came (only `model` is the requested name).
    if ('message' in result) return { body: result.message, tokens: fromUsage(result.usage) };
    const { completion } = result;
    return {
      body: chatToAnthropicMessage(completion, call.body.model),
      tokens: completion.usage ? fromUsage(completion.usage) : estimateCompletion(call.chat, completion),
    };
  },
};
