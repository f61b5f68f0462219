/**
 * Same-protocol path of the gateway's `/v1/messages` endpoint when the upstream is Anthropic: the client's
 * body goes up as it came (only `model` renamed) and the answer comes back as it came (only `model` renamed
 * back), so thinking blocks and their signatures, `redacted_thinking`, the `thinking` parameter, server
 * tools, cache_control and the usage in `message_start` / `message_delta` all survive exactly. Translating
 * through the canonical (OpenAI) form cannot promise that: it has no place for most of these.
 * Reference: PROTOCOLS.md §3.2 ("thinking blocks must be passed back unmodified"), §3.3, §3.4 (events).
 */
import type {
  ChatUsage,
  JsonObject,
  MessagesBody,
  MessagesPassthrough,
  MessagesRelay,
  SseEvent,
  UpstreamHttpRequest,
  UpstreamTarget,
} from '../types.js';
import { anthropicHeaders, messagesUrl } from './api.js';
import { errorInfoFor, readErrorBody, UpstreamStreamError } from './errors.js';
import { type AnthropicTokenCounts, EMPTY_TOKEN_COUNTS, readTokenCounts, reportedOf, toChatUsage } from './mapping.js';
import { isRecord, parseJson, readNumber, readRecord, readString } from './read-json.js';

/**
 * The upstream request: the client's body with the channel's model name. The client's `anthropic-beta`
 * header is passed on (features such as interleaved thinking need it), joined with the channel's own.
 */
export function buildMessagesRequest(
  body: MessagesBody,
  target: UpstreamTarget,
  betas: string | undefined,
): UpstreamHttpRequest {
  const headers = anthropicHeaders(target);
  if (betas) {
    const channelBetas = headers['anthropic-beta'];
    headers['anthropic-beta'] = channelBetas ? `${channelBetas},${betas}` : betas;
  }
  return {
    method: 'POST',
    url: messagesUrl(target.baseUrl),
    headers,
    body: JSON.stringify({ ...body, model: target.upstreamModel }),
  };
}

function notAMessage(body: unknown): UpstreamStreamError {
  const errorType = isRecord(body) && isRecord(body.error) ? readString(body.error, 'type') : undefined;
  return new UpstreamStreamError({
    status: 502,
    code: 'upstream_error',
    message: `Anthropic returned an unexpected response body${errorType ? ` (${errorType})` : ''}`,
    retryable: true,
  });
}

/** A non-stream answer for the client: the upstream's message with `model` set to the requested name. */
export function relayMessage(body: unknown, requestedModel: string): { message: JsonObject; usage: ChatUsage } {
  if (!isRecord(body) || body.type !== 'message') throw notAMessage(body);
  return {
    message: { ...(body as JsonObject), model: requestedModel },
    usage: toChatUsage(readTokenCounts(body.usage)),
  };
}

/** One SSE event as text; a data value with line breaks takes one `data:` line per line (SSE framing). */
function frame(event: string | undefined, data: string): string {
  const lines = data.includes('\n') ? data.split('\n').join('\ndata: ') : data;
  return event === undefined ? `data: ${lines}\n\n` : `event: ${event}\ndata: ${lines}\n\n`;
}

function parsed(event: SseEvent): Record<string, unknown> {
  const data = parseJson(event.data);
  if (!isRecord(data)) {
    throw new UpstreamStreamError({
      status: 502,
      code: 'upstream_error',
      message: 'Anthropic sent a stream event that is not JSON',
      retryable: true,
    });
  }
  return data;
}

/** Text and thinking of `content_block_delta` payloads (tool input JSON counts as text, as in OpenAI streams). */
function outputOf(payloads: string[]): { text: string; reasoning: string } {
  let text = '';
  let reasoning = '';
  for (const payload of payloads) {
    const data = parseJson(payload);
    const delta = isRecord(data) ? readRecord(data, 'delta') : undefined;
    if (!delta) continue;
    if (delta.type === 'text_delta') text += readString(delta, 'text') ?? '';
    else if (delta.type === 'thinking_delta') reasoning += readString(delta, 'thinking') ?? '';
    else if (delta.type === 'input_json_delta') text += readString(delta, 'partial_json') ?? '';
  }
  return { text, reasoning };
}

/**
 * Relays one upstream stream. Events go out as they came, except `message_start`, whose `message.model`
 * becomes the requested name; usage is read from `message_start` (input and cache counts) and
 * `message_delta` (cumulative output, sometimes input again) for billing. Text deltas are kept as raw
 * payloads and parsed only if the stream breaks off and its output must be estimated.
 *
 * @example
 * const relay = createMessagesRelay('claude-sonnet-4');
 * for (const event of upstreamEvents) write(relay.push(event));
 */
export function createMessagesRelay(requestedModel: string): MessagesRelay {
  let counts: AnthropicTokenCounts = EMPTY_TOKEN_COUNTS;
  let sawStart = false;
  let sawOutputCount = false;
  let finished = false;
  const deltas: string[] = [];

  const push = (event: SseEvent): string => {
    // Anthropic names every event and repeats the name as data.type (PROTOCOLS.md §3.4).
    const type = event.event ?? readString(parsed(event), 'type');
    switch (type) {
      case 'message_start': {
        const data = parsed(event);
        const message = readRecord(data, 'message');
        if (!message) return frame(event.event, event.data);
        sawStart = true;
        counts = readTokenCounts(message.usage, counts);
        return frame(event.event, JSON.stringify({ ...data, message: { ...message, model: requestedModel } }));
      }
      case 'message_delta': {
        const usage = readRecord(parsed(event), 'usage');
        counts = readTokenCounts(usage, counts);
        if (usage && readNumber(usage, 'output_tokens') !== undefined) sawOutputCount = true;
        return frame(event.event, event.data);
      }
      case 'content_block_delta':
        deltas.push(event.data);
        return frame(event.event, event.data);
      case 'message_stop':
        finished = true;
        return frame(event.event, event.data);
      case 'error':
        throw new UpstreamStreamError(errorInfoFor(readErrorBody(parsed(event)), undefined, 'Anthropic stream failed'));
      default:
        // ping, content_block_start/stop and event types added later: forwarded untouched.
        return frame(event.event, event.data);
    }
  };

  return {
    push,
    get finished() {
      return finished;
    },
    usage: () => (sawOutputCount ? toChatUsage(counts) : null),
    reported: () => reportedOf(counts, sawStart, sawOutputCount),
    output: () => outputOf(deltas),
  };
}

export const anthropicMessagesPassthrough: MessagesPassthrough = {
  buildRequest: buildMessagesRequest,
  relayMessage,
  createRelay: createMessagesRelay,
};
