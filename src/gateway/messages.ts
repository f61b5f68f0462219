import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ApiError } from '../core/errors.js';
import { anthropicRequestToChat } from '../providers/anthropic/inbound.js';
import type { AnthropicMessagesRequest } from '../providers/anthropic/types.js';
import type {
  ChatCompletion,
  ChatRequest,
  ChatUsage,
  JsonObject,
  MessagesBody,
  MessagesPassthrough,
} from '../providers/types.js';
import { fromUsage, OutputAccumulator, type TokenCounts } from './accounting.js';
import { type ChatService, type StreamSink, settleBrokenStream } from './chat.js';
import type { ClientPresence, ClientStream } from './client-stream.js';
import {
  type Attempt,
  CLIENT_CLOSED,
  CommittedFailure,
  clientFault,
  type Dispatcher,
  UpstreamFailure,
} from './dispatch.js';
import type { RequestLedger } from './ledger.js';
import { readText, type UpstreamClient } from './upstream.js';

/** What the client of /v1/messages sent: its body as it came, the same request in canonical form, its betas. */
export interface MessagesCall {
  body: MessagesBody;
  /** The canonical request (for translated channels, and for estimates). */
  chat: ChatRequest;
  /** Why the body has no canonical form (e.g. a server tool): only a pass-through channel can serve it. */
  untranslatable?: ApiError | undefined;
  /** The client's `anthropic-beta` header. */
  betas: string | undefined;
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

/**
 * The Anthropic-compatible /v1/messages over the dispatcher. Per attempt: a channel whose adapter speaks
 * the Messages API natively gets the client's body as it came and its answer goes back as it came (the
 * same-protocol path, as OpenAI streams pass through, DESIGN.md §2 rule 4), so thinking signatures,
 * redacted_thinking and usage placement survive exactly; any other channel gets the canonical translation.
 * Failover may mix both: each attempt decides by its own channel.
 */
export class MessagesService {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly upstream: UpstreamClient,
    private readonly chat: ChatService,
  ) {}

  complete(call: MessagesCall, ledger: RequestLedger, client: ClientPresence): Promise<MessagesAnswer> {
    return this.dispatcher.run(ledger, client, async (attempt) => {
      const passthrough = attempt.target.channel.adapter.messages;
      if (!passthrough) {
        if (call.untranslatable) throw notHere(call.untranslatable);
        return { completion: (await this.chat.completeAttempt(call.chat, ledger, attempt, false)).completion };
      }
      const { channel } = attempt.target;
      const http = clientFault(() => passthrough.buildRequest(call.body, attempt.upstream, call.betas));
      const res = await this.upstream.send(http, channel.timeouts, attempt.signal);
      attempt.upstreamStatus = res.status;
      if (res.status >= 400)
        throw new UpstreamFailure(channel.adapter.parseError(res.status, await readText(res.body), res.headers));
      const text = await res.body.text();
      ledger.markFirstToken();
      return passthrough.relayMessage(JSON.parse(text) as unknown, call.body.model);
    });
  }

  /** Streams to `client` and settles the ledger; throws an ApiError only before the first byte. */
  async stream(call: MessagesCall, ledger: RequestLedger, sink: StreamSink, client: ClientStream): Promise<void> {
    try {
      await this.dispatcher.run(ledger, client, (attempt) => {
        const passthrough = attempt.target.channel.adapter.messages;
        if (passthrough) return this.relayAttempt(call, passthrough, ledger, sink, client, attempt);
        if (call.untranslatable) throw notHere(call.untranslatable);
        return this.chat.streamAttempt(call.chat, ledger, sink, client, attempt);
      });
    } catch (error) {
      if (error instanceof CommittedFailure) return;
      throw error;
    }
  }

  private async relayAttempt(
    call: MessagesCall,
    passthrough: MessagesPassthrough,
    ledger: RequestLedger,
    sink: StreamSink,
    client: ClientStream,
    attempt: Attempt,
  ): Promise<void> {
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
      const res = await this.upstream.send(http, channel.timeouts, attempt.signal);
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
}
