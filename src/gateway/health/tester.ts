import { ApiError, notFound } from '../../core/errors.js';
import type { ChatRequest, EmbeddingsRequest, UpstreamHttpRequest, UpstreamTarget } from '../../providers/types.js';
import type { Catalog, CatalogChannel } from '../catalog.js';
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

/** What a test sends: a one-token chat, a one-word embedding, or a one-document rerank. */
export type ChannelTestKind = 'chat' | 'embeddings' | 'rerank';

/** One model a channel serves, with the request that fits it. */
export interface ChannelTestModel {
  upstreamModel: string;
  kind: ChannelTestKind;
}

/**
 * The request that fits a model of a channel: embeddings for an embedding model (when the provider serves them),
 * rerank for a rerank-only provider (Cohere, Jina), else chat.
 */
export function testKind(channel: CatalogChannel, embeddingModel: boolean): ChannelTestKind {
  const endpoints = channel.adapter.endpoints;
  const embeds = endpoints.includes('embeddings') && channel.adapter.buildEmbeddingsRequest !== undefined;
  if (embeddingModel && embeds) return 'embeddings';
  if (endpoints.includes('chat')) return 'chat';
  if (embeds) return 'embeddings';
  if (endpoints.includes('rerank') && channel.adapter.buildForwardedRequest) return 'rerank';
  return 'chat';
}

const isEmbeddingModel = (name: string, capabilities: readonly string[]) =>
  capabilities.includes('embeddings') || /embed/i.test(name);

/** Sends a tiny request through a channel (enabled or not) to check its URL, key and model. */
export class ChannelTester {
  constructor(
    private readonly catalog: Catalog,
    private readonly upstream: UpstreamClient,
  ) {}

  async test(channelId: string, model?: string): Promise<ChannelTestResult> {
    const channel = this.catalog.getChannel(channelId);
    if (!channel) throw notFound('Channel');
    const target = model ? this.modelOf(channel, model) : this.modelsOf(channel)[0];
    if (!target)
      throw new ApiError(
        'validation_failed',
        'No model routes to this channel yet; pass {"model": "<upstream model name>"}',
        { param: 'model' },
      );
    return this.run(channel, target);
  }

  /** Every distinct upstream model routed to the channel, chat models first (the first is what `test` uses). */
  modelsOf(channel: CatalogChannel): ChannelTestModel[] {
    const seen = new Map<string, ChannelTestModel>();
    for (const model of this.catalog.allModels()) {
      for (const route of model.routes) {
        if (route.channel.id !== channel.id || seen.has(route.upstreamModel)) continue;
        seen.set(route.upstreamModel, {
          upstreamModel: route.upstreamModel,
          kind: testKind(channel, isEmbeddingModel(model.name, model.capabilities)),
        });
      }
    }
    const order = (m: ChannelTestModel) => (m.kind === 'chat' ? 0 : 1);
    return [...seen.values()].sort((a, b) => order(a) - order(b));
  }

  /** The model as the channel's routes know it, else judged by its name. */
  private modelOf(channel: CatalogChannel, upstreamModel: string): ChannelTestModel {
    const known = this.modelsOf(channel).find((m) => m.upstreamModel === upstreamModel);
    return known ?? { upstreamModel, kind: testKind(channel, isEmbeddingModel(upstreamModel, [])) };
  }

  /** Send one test request and report what came back. */
  async run(channel: CatalogChannel, { upstreamModel, kind }: ChannelTestModel): Promise<ChannelTestResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const result = (ok: boolean, status: number | null, error: string | null, reply: string | null) => ({
      ok,
      latencyMs: elapsed(),
      model: upstreamModel,
      status,
      error,
      reply,
    });
    const chat: ChatRequest = {
      model: upstreamModel,
      messages: [{ role: 'user', content: 'ping' }],
      max_tokens: 1,
      stream: false,
    };
    const embeddings: EmbeddingsRequest = { model: upstreamModel, input: 'ping' };
    const inProcess = channel.adapter.inProcess;
    if (inProcess) {
      if (kind === 'embeddings') {
        inProcess.embeddings(embeddings);
        return result(true, 200, null, null);
      }
      const completion = inProcess.chat(chat, { id: 'chatcmpl-test', created: 0 });
      return result(true, 200, null, completion.choices[0]?.message.content ?? null);
    }
    const timeouts = {
      ...channel.timeouts,
      totalMs: Math.min(channel.timeouts.totalMs, 30_000),
      firstByteMs: Math.min(channel.timeouts.firstByteMs, 30_000),
    };
    const deadline = AbortSignal.timeout(timeouts.totalMs);
    try {
      const target: UpstreamTarget = {
        baseUrl: channel.baseUrl,
        apiKey: nextKey(channel).secret,
        upstreamModel,
        headers: channel.options.headers ?? {},
        options: channel.options.provider ?? {},
      };
      const adapter = channel.adapter;
      let http: UpstreamHttpRequest;
      if (kind === 'embeddings' && adapter.buildEmbeddingsRequest)
        http = adapter.buildEmbeddingsRequest(embeddings, target);
      else if (kind === 'rerank' && adapter.buildForwardedRequest)
        http = adapter.buildForwardedRequest(
          'rerank',
          { model: upstreamModel, query: 'ping', documents: ['ping'], top_n: 1 },
          target,
        );
      else http = adapter.buildChatRequest(chat, target);
      const res = await this.upstream.send(http, timeouts, deadline);
      if (res.status >= 400) {
        const info = adapter.parseError(res.status, await readText(res.body), res.headers);
        return result(false, res.status, info.message, null);
      }
      const body: unknown = JSON.parse(await res.body.text());
      if (kind === 'embeddings' && adapter.parseEmbeddingsResponse) {
        const parsed = adapter.parseEmbeddingsResponse(body, embeddings);
        return result(true, res.status, null, `${parsed.data.length} embedding`);
      }
      if (kind === 'rerank') {
        const parsed = adapter.parseForwardedResponse?.('rerank', body) ?? body;
        const count = Array.isArray((parsed as { results?: unknown }).results)
          ? (parsed as { results: unknown[] }).results.length
          : 0;
        return result(true, res.status, null, `${count} ranked`);
      }
      const completion = adapter.parseChatResponse(body, chat);
      return result(true, res.status, null, completion.choices[0]?.message.content ?? null);
    } catch (error) {
      const info = transportErrorInfo(error, channel.name, deadline.aborted);
      return result(false, null, info.message, null);
    }
  }
}
