import { ApiError, notFound } from '../../core/errors.js';
import type { ChatRequest } from '../../providers/types.js';
import type { Catalog } from '../catalog.js';
import { nextKey } from '../pipeline/route.js';
import { readText, transportErrorInfo, type UpstreamClient } from '../pipeline/upstream.js';

export interface ChannelTestResult {
  ok: boolean;
  latencyMs: number;
  model: string;
  status: number | null;
  error: string | null;
  reply: string | null;
}

/** Sends a one-token chat request through a channel (enabled or not) to check its URL, key and model. */
export class ChannelTester {
  constructor(
    private readonly catalog: Catalog,
    private readonly upstream: UpstreamClient,
  ) {}

  async test(channelId: string, model?: string): Promise<ChannelTestResult> {
    const channel = this.catalog.getChannel(channelId);
    if (!channel) throw notFound('Channel');
    const upstreamModel = model ?? this.firstModelOf(channelId);
    if (!upstreamModel)
      throw new ApiError(
        'validation_failed',
        'No model routes to this channel yet; pass {"model": "<upstream model name>"}',
        { param: 'model' },
      );
    const request: ChatRequest = {
      model: upstreamModel,
      messages: [{ role: 'user', content: 'ping' }],
      max_tokens: 1,
      stream: false,
    };
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const inProcess = channel.adapter.inProcess;
    if (inProcess) {
      const completion = inProcess.chat(request, { id: 'chatcmpl-test', created: 0 });
      return {
        ok: true,
        latencyMs: elapsed(),
        model: upstreamModel,
        status: 200,
        error: null,
        reply: completion.choices[0]?.message.content ?? null,
      };
    }
    const timeouts = {
      ...channel.timeouts,
      totalMs: Math.min(channel.timeouts.totalMs, 30_000),
      firstByteMs: Math.min(channel.timeouts.firstByteMs, 30_000),
    };
    const deadline = AbortSignal.timeout(timeouts.totalMs);
    try {
      const http = channel.adapter.buildChatRequest(request, {
        baseUrl: channel.baseUrl,
        apiKey: nextKey(channel).secret,
        upstreamModel,
        headers: channel.options.headers ?? {},
        options: channel.options.provider ?? {},
      });
      const res = await this.upstream.send(http, timeouts, deadline);
      if (res.status >= 400) {
        const info = channel.adapter.parseError(res.status, await readText(res.body), res.headers);
        return {
          ok: false,
          latencyMs: elapsed(),
          model: upstreamModel,
          status: res.status,
          error: info.message,
          reply: null,
        };
      }
      const completion = channel.adapter.parseChatResponse(JSON.parse(await res.body.text()), request);
      return {
        ok: true,
        latencyMs: elapsed(),
        model: upstreamModel,
        status: res.status,
        error: null,
        reply: completion.choices[0]?.message.content ?? null,
      };
    } catch (error) {
      const info = transportErrorInfo(error, channel.name, deadline.aborted);
      return { ok: false, latencyMs: elapsed(), model: upstreamModel, status: null, error: info.message, reply: null };
    }
  }

  /** A model the channel serves, preferring chat models (the test sends a chat completion). */
  private firstModelOf(channelId: string): string | undefined {
    let fallback: string | undefined;
    for (const model of this.catalog.allModels()) {
      const route = model.routes.find((r) => r.channel.id === channelId);
      if (!route) continue;
      const embeddings = model.capabilities.includes('embeddings') || /embed/i.test(model.name);
      if (!embeddings) return route.upstreamModel;
      fallback ??= route.upstreamModel;
    }
    return fallback;
  }
}
