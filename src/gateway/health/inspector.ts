/**
 * Questions about a channel's upstream account, asked by the console: which models it serves (to pre-fill the
 * channel's models) and how much credit is left. Each is a capability a provider declares (`modelList`,
 * `balance`); the requests go through the data plane's upstream pools with short deadlines.
 */
import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import { getProvider } from '../../providers/registry.js';
import type { ProviderAdapter, UpstreamBalance, UpstreamHttpRequest, UpstreamTarget } from '../../providers/types.js';
import type { Catalog } from '../catalog.js';
import { nextKey } from '../pipeline/route.js';
import { readText, transportErrorInfo, type UpstreamClient } from '../pipeline/upstream.js';
import { DEFAULT_TIMEOUTS } from '../ports.js';

/** An upstream to ask, named in full (a channel form not saved yet). */
export interface UpstreamSpec {
  type: string;
  baseUrl?: string | null | undefined;
  key?: string | undefined;
  headers?: Record<string, string> | undefined;
  provider?: Record<string, string> | undefined;
}

const TIMEOUTS = { ...DEFAULT_TIMEOUTS, firstByteMs: 15_000, totalMs: 20_000, idleMs: 15_000 };

export class UpstreamInspector {
  constructor(
    private readonly catalog: Catalog,
    private readonly upstream: UpstreamClient,
    private readonly clock: Clock,
  ) {}

  /** The models a saved channel's upstream lists. */
  channelModels(channelId: string): Promise<string[]> {
    const { adapter, target, name } = this.ofChannel(channelId);
    return this.listModels(adapter, target, name);
  }

  /** The models an upstream named in full lists (the channel form's "Fetch models" before saving). */
  specModels(spec: UpstreamSpec): Promise<string[]> {
    const adapter = getProvider(spec.type);
    if (!adapter) throw new ApiError('validation_failed', 'type is not a known provider', { param: 'type' });
    const baseUrl = spec.baseUrl?.trim().replace(/\/+$/, '') || adapter.baseUrl.default || '';
    if (adapter.baseUrl.mode !== 'none' && !/^https?:\/\/[^\s]+$/.test(baseUrl))
      throw new ApiError('validation_failed', 'baseUrl must be an http(s) URL', { param: 'baseUrl' });
    const target: UpstreamTarget = {
      baseUrl,
      apiKey: spec.key?.trim() ?? '',
      upstreamModel: '',
      headers: spec.headers ?? {},
      options: spec.provider ?? {},
    };
    return this.listModels(adapter, target, adapter.label);
  }

  /** The balance of a saved channel's upstream account (its first usable key's account). */
  async channelBalance(channelId: string): Promise<UpstreamBalance> {
    const { adapter, target, name } = this.ofChannel(channelId);
    const requests = adapter.balance?.buildRequests(target, this.clock.now());
    if (!adapter.balance || !requests)
      throw new ApiError('bad_request', `${adapter.label} channels do not report an account balance`);
    const bodies: unknown[] = [];
    for (const request of requests) bodies.push(await this.getJson(request, name));
    return adapter.balance.parse(bodies, target);
  }

  private async listModels(adapter: ProviderAdapter, target: UpstreamTarget, name: string): Promise<string[]> {
    if (!adapter.modelList) throw new ApiError('bad_request', `${adapter.label} channels do not list their models`);
    const body = await this.getJson(adapter.modelList.buildRequest(target), name);
    return adapter.modelList.parse(body).sort((a, b) => a.localeCompare(b));
  }

  private ofChannel(channelId: string): { adapter: ProviderAdapter; target: UpstreamTarget; name: string } {
    const channel = this.catalog.getChannel(channelId);
    if (!channel) throw notFound('Channel');
    return {
      adapter: channel.adapter,
      name: channel.name,
      target: {
        baseUrl: channel.baseUrl,
        apiKey: nextKey(channel).secret,
        upstreamModel: '',
        headers: channel.options.headers ?? {},
        options: channel.options.provider ?? {},
      },
    };
  }

  /** GET a JSON answer; an upstream error or an unreachable host becomes an ApiError naming the upstream. */
  private async getJson(request: UpstreamHttpRequest, name: string): Promise<unknown> {
    const deadline = AbortSignal.timeout(TIMEOUTS.totalMs);
    let status: number;
    let text: string;
    try {
      const res = await this.upstream.send(request, TIMEOUTS, deadline);
      status = res.status;
      text = await readText(res.body, 4 * 1024 * 1024);
    } catch (error) {
      const info = transportErrorInfo(error, name, deadline.aborted);
      throw new ApiError(info.code === 'upstream_timeout' ? 'upstream_timeout' : 'upstream_error', info.message);
    }
    if (status >= 400) {
      // The upstream's message, not its body: an error body may echo request details.
      const brief = /"message"\s*:\s*"([^"]{1,300})"/.exec(text)?.[1] ?? '';
      throw new ApiError('upstream_error', `Upstream ${name} answered ${status}${brief ? `: ${brief}` : ''}`, {
        status: 502,
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError('upstream_error', `Upstream ${name} answered with something other than JSON`);
    }
  }
}
