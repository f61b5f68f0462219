import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { openAiStreamErrorInfo } from '../../providers/openai/errors.js';
import { isRecord } from '../../providers/shared/json.js';
import { normaliseUsage } from '../../providers/shared/usage.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  ChatUsage,
  ReportedUsage,
  UpstreamErrorInfo,
} from '../../providers/types.js';
import { fromUsage, OutputAccumulator, type TokenCounts } from '../accounting.js';
import type { ClientStream } from '../client-stream.js';
import type { Attempt } from './dispatch.js';
import { CLIENT_CLOSED, clientFault, UpstreamFailure } from './failure.js';
import type { RequestLedger } from './ledger.js';
import { settleBrokenStream } from './settle.js';
import { readText, type UpstreamClient } from './upstream.js';

/** How a protocol writes a stream to its client (OpenAI SSE or Anthropic events). */
export interface StreamSink {
  /** Whether upstream OpenAI payloads may be forwarded as they are (no parse, no re-serialise). */
  readonly acceptsRaw: boolean;
  raw(data: string): string;
  chunk(chunk: ChatCompletionChunk): string;
  end(usage: ChatUsage | null): string;
  error(info: UpstreamErrorInfo): string;
}

/** Per-stream state kept outside the pump so a disconnect or failure can still bill what was produced. */
class StreamState {
  usage: ChatUsage | null = null;
  readonly output = new OutputAccumulator();
  /** Raw payloads of a pass-through stream, parsed only if the upstream never reports usage. */
  readonly rawPayloads: string[] = [];
  /** Usage figures the upstream reported before its final usage (a stream cut off keeps them). */
  reported: (() => ReportedUsage) | undefined;

  get empty(): boolean {
    return this.usage === null && this.rawPayloads.length === 0 && this.output.empty;
  }

  /** The upstream's usage, or a tokenizer estimate of what it did not report, counted off the event loop. */
  tokens(request: ChatRequest): TokenCounts | Promise<TokenCounts> {
    if (this.usage) return fromUsage(this.usage);
    for (const payload of this.rawPayloads) {
      try {
        this.output.add(JSON.parse(payload) as ChatCompletionChunk);
      } catch {
        // not a chunk: nothing to count
      }
    }
    this.rawPayloads.length = 0;
    return this.output.estimate(request, this.reported?.());
  }
}

function idsFor(ledger: RequestLedger): { id: string; created: number } {
  return { id: `chatcmpl-${ledger.ctx.requestId.slice(4)}`, created: Math.floor(Date.now() / 1000) };
}

/**
 * One non-stream chat attempt against one target. With `acceptsRaw` (an OpenAI client), the upstream's body
 * is kept as it came when the adapter declares chat pass-through and it is well formed: forwarding it
 * spares normalising and re-serialising it.
 */
export async function completeChat(
  upstream: UpstreamClient,
  request: ChatRequest,
  ledger: RequestLedger,
  attempt: Attempt,
  acceptsRaw: boolean,
): Promise<{ completion: ChatCompletion; raw: string | undefined }> {
  const { channel } = attempt.target;
  const inProcess = channel.adapter.inProcess;
  if (inProcess) {
    ledger.markFirstToken();
    const completion = clientFault(() =>
      inProcess.chat({ ...request, model: attempt.upstream.upstreamModel }, idsFor(ledger)),
    );
    return { completion, raw: undefined };
  }
  // Requests arrive here without `stream: true` (those take stream()): no copy needed to turn it off.
  const http = clientFault(() =>
    channel.adapter.buildChatRequest(
      request.stream === true ? { ...request, stream: false } : request,
      attempt.upstream,
    ),
  );
  const res = await upstream.send(http, channel.timeouts, attempt.signal);
  attempt.upstreamStatus = res.status;
  if (res.status >= 400)
    throw new UpstreamFailure(channel.adapter.parseError(res.status, await readText(res.body), res.headers));
  const text = await res.body.text();
  ledger.markFirstToken();
  const body = JSON.parse(text) as unknown;
  if (acceptsRaw && channel.adapter.passThrough.includes('chat') && isForwardable(body)) {
    const usage = normaliseUsage(body.usage);
    const completion = body as unknown as ChatCompletion;
    if (usage) completion.usage = usage;
    else delete completion.usage;
    return { completion, raw: text };
  }
  return { completion: channel.adapter.parseChatResponse(body, request), raw: undefined };
}

/**
 * One stream attempt against one target: the stream pump. Writes to `client` through `sink` and settles
 * the ledger; throws (for failover) only while the client has nothing yet.
 */
export async function streamChat(
  upstream: UpstreamClient,
  request: ChatRequest,
  ledger: RequestLedger,
  sink: StreamSink,
  client: ClientStream,
  attempt: Attempt,
): Promise<undefined> {
  const { channel } = attempt.target;
  const state = new StreamState();
  const clientWantsUsage = request.stream_options?.include_usage === true;
  const ids = idsFor(ledger);
  /** Set once the client has the whole answer, its end included (the upstream body may still be draining). */
  let answered = false;
  const inProcess = channel.adapter.inProcess;
  try {
    if (inProcess) {
      const delayMs = inProcess.chunkDelayMs(channel.options.provider ?? {});
      const chunks = clientFault(() => [
        ...inProcess.chatChunks({ ...request, model: attempt.upstream.upstreamModel }, ids),
      ]);
      for (const chunk of chunks) {
        if (client.gone) break;
        if (chunk.usage) state.usage = chunk.usage;
        state.output.add(chunk);
        if (chunk.choices.length === 0 && !clientWantsUsage && sink.acceptsRaw) continue;
        ledger.markFirstToken();
        await client.write(sink.chunk(chunk));
        if (delayMs > 0) await sleep(delayMs);
      }
    } else {
      const upstreamRequest: ChatRequest = channel.adapter.openaiCompatible
        ? { ...request, stream: true, stream_options: { ...request.stream_options, include_usage: true } }
        : { ...request, stream: true };
      // Byte pass-through only where the adapter declares it (OpenAI itself: other OpenAI-compatible servers
      // vary and go through the translator).
      const passthrough = sink.acceptsRaw && channel.adapter.passThrough.includes('chat');
      // The translator reads the request too: made before sending, so a request it refuses is the client's fault.
      const { http, translator } = clientFault(() => ({
        http: channel.adapter.buildChatRequest(upstreamRequest, attempt.upstream),
        translator: passthrough ? undefined : channel.adapter.createStreamTranslator(request, ids),
      }));
      const res = await upstream.send(http, channel.timeouts, attempt.signal);
      attempt.upstreamStatus = res.status;
      if (res.status >= 400)
        throw new UpstreamFailure(channel.adapter.parseError(res.status, await readText(res.body), res.headers));
      if (translator?.reported) state.reported = () => translator.reported?.() ?? {};
      const events: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (event) => events.push(event) });
      // StringDecoder, not TextDecoder: a streaming TextDecoder costs ~10 µs to create on Node 20.
      const decoder = new StringDecoder('utf8');
      let first = true;
      const emit = (chunks: ChatCompletionChunk[]): string => {
        let out = '';
        for (const chunk of chunks) {
          if (chunk.usage) state.usage = chunk.usage;
          state.output.add(chunk);
          if (chunk.choices.length === 0 && !clientWantsUsage && sink.acceptsRaw) continue;
          out += sink.chunk(chunk);
        }
        return out;
      };
      for await (const buf of res.body) {
        let text = decoder.write(buf as Buffer);
        if (first && text !== '') {
          first = false;
          // TextDecoder's default: a leading byte order mark is not part of the text.
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        }
        parser.feed(text);
        let out = '';
        let done = false;
        for (const event of events) {
          if (translator) {
            out += emit(translator.push({ event: event.event, data: event.data }));
            continue;
          }
          const data = event.data;
          if (data === '[DONE]') {
            done = true;
            continue;
          }
          if (data.startsWith('{"error"')) throw new UpstreamFailure(openAiErrorPayload(data));
          if (mentionsUsage(data)) {
            const chunk = parseChunk(data);
            const usage = chunk && normaliseUsage(chunk.usage);
            if (usage) {
              state.usage = usage;
              // The usage-only chunk we asked for on the client's behalf: not forwarded unasked.
              if (!clientWantsUsage && !(Array.isArray(chunk.choices) && chunk.choices.length > 0)) continue;
            }
          }
          state.rawPayloads.push(data);
          out += sink.raw(data);
        }
        events.length = 0;
        if (done && (out !== '' || client.started)) {
          // The upstream's end is in this read: the last chunks and the end go out in one write (one
          // syscall less per stream); the loop then only drains the upstream body (nothing more to send).
          if (out) ledger.markFirstToken();
          client.end(out + sink.end(state.usage));
          answered = true;
        } else if (out) {
          ledger.markFirstToken();
          const backpressure = client.write(out);
          if (backpressure) await backpressure;
        }
      }
      if (translator) {
        const tail = emit(translator.end());
        if (tail) await client.write(tail);
      }
      if (!client.started && state.empty) {
        throw new UpstreamFailure({
          status: 502,
          code: 'upstream_error',
          message: `Upstream ${channel.name} ended the stream without any data`,
          retryable: true,
        });
      }
    }
  } catch (error) {
    settleBrokenStream(error, { answered, ledger, sink, client, attempt, tokens: () => state.tokens(request) });
    return;
  }
  if (client.gone) {
    ledger.settle(CLIENT_CLOSED, 'client_closed', state.tokens(request));
    return;
  }
  client.end(sink.end(state.usage));
  ledger.settle(200, null, state.tokens(request));
}

/**
 * `data.includes('"usage"') && !data.includes('"usage":null')`, searched from the end: OpenAI puts `usage`
 * last in every chunk, and a forward search for a quote-led pattern in JSON is slow (~0.3 µs a call).
 */
function mentionsUsage(data: string): boolean {
  const at = data.lastIndexOf('"usage"');
  return at >= 0 && !data.startsWith(':null', at + 7) && !data.includes('"usage":null');
}

/**
 * An OpenAI chat completion that can go to the client as it came: an object with a choices array of
 * messages, and no error. Anything else goes through the adapter (which normalises or rejects it).
 */
function isForwardable(body: unknown): body is { usage?: unknown; choices: unknown[] } {
  if (!isRecord(body) || !Array.isArray(body.choices) || body.error != null) return false;
  for (const choice of body.choices) if (!isRecord(choice) || !isRecord(choice.message)) return false;
  return true;
}

/** A pass-through payload as an object (once, for the chunk that carries usage), or undefined. */
function parseChunk(payload: string): { usage?: unknown; choices?: unknown } | undefined {
  try {
    const parsed = JSON.parse(payload) as unknown;
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function openAiErrorPayload(payload: string): UpstreamErrorInfo {
  let error: unknown;
  try {
    error = (JSON.parse(payload) as { error?: unknown }).error;
  } catch {
    error = payload;
  }
  return openAiStreamErrorInfo(error);
}
