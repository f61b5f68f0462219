import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ApiError, type ErrorCode } from '../core/errors.js';
import { mockChatChunks, mockChatCompletion } from '../providers/mock/index.js';
import { openAiStreamErrorInfo } from '../providers/openai/errors.js';
import { isUpstreamStreamError } from '../providers/shared/stream-error.js';
import { observeUsageFromSse } from '../providers/shared/usage.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, ChatUsage, UpstreamErrorInfo, UpstreamTarget } from '../providers/types.js';
import { OutputAccumulator, type TokenCounts, fromUsage } from './accounting.js';
import type { CatalogChannel } from './catalog.js';
import type { ClientStream } from './client-stream.js';
import type { RequestLedger } from './ledger.js';
import { type RandomSource, type Target, nextKey, orderTargets } from './router.js';
import { type UpstreamClient, readText, transportErrorInfo } from './upstream.js';

/** How a protocol writes a stream to its client (OpenAI SSE or Anthropic events). */
export interface StreamSink {
  /** Whether upstream OpenAI payloads may be forwarded as they are (no parse, no re-serialise). */
  readonly acceptsRaw: boolean;
  raw(data: string): string;
  chunk(chunk: ChatCompletionChunk): string;
  end(usage: ChatUsage | null): string;
  error(info: UpstreamErrorInfo): string;
}

export interface DispatcherDeps {
  upstream: UpstreamClient;
  random?: RandomSource;
  /** Called when an upstream rejects a channel's provider key (401/403). */
  onAuthFailure?: (channel: CatalogChannel, message: string) => void;
}

/** What status a client-side disconnect is recorded with (nginx's convention). */
export const CLIENT_CLOSED = 499;

export function apiErrorOf(info: UpstreamErrorInfo): ApiError {
  return new ApiError(info.code as ErrorCode, info.message, { status: info.status, retryAfterSeconds: info.retryAfterSeconds });
}

function targetOf(target: Target): UpstreamTarget {
  const { channel, route } = target;
  return {
    baseUrl: channel.baseUrl,
    apiKey: nextKey(channel),
    upstreamModel: route.upstreamModel,
    headers: channel.options.headers ?? {},
    options: channel.options.provider ?? {},
  };
}

/** Per-stream state kept outside the pump so a disconnect or failure can still bill what was produced. */
class StreamState {
  usage: ChatUsage | null = null;
  readonly output = new OutputAccumulator();
  /** Raw payloads of a pass-through stream, parsed only if the upstream never reports usage. */
  readonly rawPayloads: string[] = [];

  tokens(request: ChatRequest): TokenCounts {
    if (this.usage) return fromUsage(this.usage);
    for (const payload of this.rawPayloads) {
      try {
        this.output.add(JSON.parse(payload) as ChatCompletionChunk);
      } catch {
        // not a chunk: nothing to count
      }
    }
    this.rawPayloads.length = 0;
    return this.output.estimate(request);
  }
}

/**
 * Sends chat requests to the model's targets in order (failover before the first byte reaches the
 * client), and meters the answer.
 */
export class ChatDispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** Non-streaming chat: the canonical completion, or an ApiError for the client. */
  async complete(request: ChatRequest, ledger: RequestLedger, signal: AbortSignal): Promise<ChatCompletion> {
    const targets = this.targets(ledger);
    let lastError: ApiError | undefined;
    for (const target of targets) {
      const { channel } = target;
      const startedMs = ledger.elapsedMs();
      ledger.channel = channel;
      ledger.upstreamModel = target.route.upstreamModel;
      const ids = { id: `chatcmpl-${ledger.ctx.requestId.slice(4)}`, created: Math.floor(Date.now() / 1000) };
      if (channel.type === 'mock') {
        const completion = mockChatCompletion({ ...request, model: target.route.upstreamModel }, ids);
        ledger.markFirstToken();
        return completion;
      }
      const deadline = AbortSignal.timeout(channel.timeouts.totalMs);
      let info: UpstreamErrorInfo;
      try {
        const upstreamTarget = targetOf(target);
        const http = channel.adapter.buildChatRequest({ ...request, stream: false }, upstreamTarget);
        const res = await this.deps.upstream.send(http, channel.timeouts, AbortSignal.any([signal, deadline]));
        if (res.status < 400) {
          const text = await res.body.text();
          ledger.markFirstToken();
          return channel.adapter.parseChatResponse(JSON.parse(text), request);
        }
        info = channel.adapter.parseError(res.status, await readText(res.body), res.headers);
      } catch (error) {
        if (signal.aborted) throw new ApiError('bad_request', 'Client closed the request', { status: CLIENT_CLOSED });
        info = this.failureInfo(error, channel, deadline.aborted);
      }
      lastError = this.fail(ledger, target, info, startedMs);
      if (!info.retryable) throw lastError;
    }
    throw lastError ?? noTarget(ledger);
  }

  /** Streaming chat: writes to `client` through `sink`, settles the ledger; throws only before the first byte. */
  async stream(request: ChatRequest, ledger: RequestLedger, sink: StreamSink, client: ClientStream): Promise<void> {
    const targets = this.targets(ledger);
    const clientWantsUsage = request.stream_options?.include_usage === true;
    let lastError: ApiError | undefined;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i] as Target;
      const { channel } = target;
      const startedMs = ledger.elapsedMs();
      ledger.channel = channel;
      ledger.upstreamModel = target.route.upstreamModel;
      const ids = { id: `chatcmpl-${ledger.ctx.requestId.slice(4)}`, created: Math.floor(Date.now() / 1000) };
      const state = new StreamState();
      if (channel.type === 'mock') {
        await this.streamMock({ ...request, model: target.route.upstreamModel }, ids, channel, ledger, sink, client, state, clientWantsUsage);
        return;
      }
      const deadline = AbortSignal.timeout(channel.timeouts.totalMs);
      let info: UpstreamErrorInfo;
      try {
        const upstreamRequest: ChatRequest = channel.adapter.openaiCompatible
          ? { ...request, stream: true, stream_options: { ...request.stream_options, include_usage: true } }
          : { ...request, stream: true };
        const http = channel.adapter.buildChatRequest(upstreamRequest, targetOf(target));
        const res = await this.deps.upstream.send(http, channel.timeouts, AbortSignal.any([client.signal, deadline]));
        if (res.status >= 400) {
          info = channel.adapter.parseError(res.status, await readText(res.body), res.headers);
        } else {
          const passthrough = channel.adapter.openaiCompatible && sink.acceptsRaw;
          const translator = passthrough ? undefined : channel.adapter.createStreamTranslator(request, ids);
          const events: EventSourceMessage[] = [];
          const parser = createParser({ onEvent: (event) => events.push(event) });
          const decoder = new TextDecoder();
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
            parser.feed(decoder.decode(buf as Buffer, { stream: true }));
            let out = '';
            for (const event of events) {
              if (translator) {
                out += emit(translator.push({ event: event.event, data: event.data }));
                continue;
              }
              const data = event.data;
              if (data === '[DONE]') continue;
              if (data.startsWith('{"error"')) throw new UpstreamStreamErrorFromOpenAi(data);
              if (data.includes('"usage":{')) {
                const usage = observeUsageFromSse(data);
                if (usage) state.usage = usage;
                if (!clientWantsUsage && data.includes('"choices":[]')) continue;
              }
              state.rawPayloads.push(data);
              out += sink.raw(data);
            }
            events.length = 0;
            if (out) {
              ledger.markFirstToken();
              await client.write(out);
            }
          }
          if (translator) {
            const tail = emit(translator.end());
            if (tail) await client.write(tail);
          }
          if (!client.started && state.usage === null && state.rawPayloads.length === 0 && state.output.empty) {
            throw Object.assign(new Error('upstream stream ended without any data'), { code: 'EMPTY_STREAM' });
          }
          client.end(sink.end(state.usage));
          ledger.settle(200, null, state.tokens(request));
          return;
        }
      } catch (error) {
        if (client.gone) {
          ledger.settle(CLIENT_CLOSED, 'client_closed', state.tokens(request));
          return;
        }
        info = error instanceof UpstreamStreamErrorFromOpenAi ? error.info : this.failureInfo(error, channel, deadline.aborted);
        if (client.started) {
          // The client already has part of the answer: report the failure in the stream, bill what was produced.
          client.end(sink.error(info));
          ledger.settle(info.status, info.code, state.tokens(request));
          return;
        }
      }
      lastError = this.fail(ledger, target, info, startedMs);
      if (!info.retryable || i === targets.length - 1) break;
    }
    throw lastError ?? noTarget(ledger);
  }

  private async streamMock(
    request: ChatRequest,
    ids: { id: string; created: number },
    channel: CatalogChannel,
    ledger: RequestLedger,
    sink: StreamSink,
    client: ClientStream,
    state: StreamState,
    clientWantsUsage: boolean,
  ): Promise<void> {
    const delayMs = Number(channel.options.provider?.chunkDelayMs ?? 0);
    for (const chunk of mockChatChunks(request, ids)) {
      if (client.gone) {
        ledger.settle(CLIENT_CLOSED, 'client_closed', state.tokens(request));
        return;
      }
      if (chunk.usage) state.usage = chunk.usage;
      state.output.add(chunk);
      if (chunk.choices.length === 0 && !clientWantsUsage && sink.acceptsRaw) continue;
      ledger.markFirstToken();
      await client.write(sink.chunk(chunk));
      if (delayMs > 0) await sleep(delayMs);
    }
    client.end(sink.end(state.usage));
    ledger.settle(client.gone ? CLIENT_CLOSED : 200, client.gone ? 'client_closed' : null, state.tokens(request));
  }

  private targets(ledger: RequestLedger): Target[] {
    const targets = orderTargets(ledger.ctx.model, this.deps.random);
    if (targets.length === 0) throw noTarget(ledger);
    return targets;
  }

  private failureInfo(error: unknown, channel: CatalogChannel, deadlineHit: boolean): UpstreamErrorInfo {
    if (isUpstreamStreamError(error)) return error.info;
    if (error instanceof SyntaxError) {
      return { status: 502, code: 'upstream_error', message: `Upstream ${channel.name} sent a malformed response`, retryable: true };
    }
    if (error instanceof ApiError) return { status: error.status, code: 'upstream_error', message: error.message, retryable: false };
    return transportErrorInfo(error, channel.name, deadlineHit);
  }

  private fail(ledger: RequestLedger, target: Target, info: UpstreamErrorInfo, startedMs: number): ApiError {
    ledger.addAttempt(target.channel, info.status, info.message, startedMs);
    if (info.code === 'upstream_auth_failed') this.deps.onAuthFailure?.(target.channel, info.message);
    return apiErrorOf(info);
  }
}

class UpstreamStreamErrorFromOpenAi extends Error {
  readonly info: UpstreamErrorInfo;
  constructor(payload: string) {
    let error: unknown;
    try {
      error = (JSON.parse(payload) as { error?: unknown }).error;
    } catch {
      error = payload;
    }
    const info = openAiStreamErrorInfo(error);
    super(info.message);
    this.info = info;
  }
}

function noTarget(ledger: RequestLedger): ApiError {
  return new ApiError('no_available_channel', `No available channel serves model ${ledger.ctx.model.name} right now`);
}
