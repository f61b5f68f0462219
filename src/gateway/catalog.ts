import { getProvider } from '../providers/registry.js';
import type { PromptOverhead, ProviderAdapter } from '../providers/types.js';
import { buildModelRoutes } from './catalog-routes.js';
import {
  type CatalogSource,
  type ChannelOptions,
  type ChannelTimeouts,
  DEFAULT_TIMEOUTS,
  STRATEGIES,
  type Strategy,
} from './ports.js';
import { parseUnitPrices, type UnitPrices } from './unit-prices.js';

export interface CatalogChannel {
  id: string;
  name: string;
  type: string;
  adapter: ProviderAdapter;
  baseUrl: string;
  active: boolean;
  disabledReason: string | null;
  options: ChannelOptions;
  /** The groups the channel is in: callers limited to groups use only channels of theirs. */
  groups: readonly string[];
  /** Labels: a model route may name a tag instead of a channel. */
  tags?: readonly string[] | undefined;
  timeouts: Required<ChannelTimeouts>;
  priority: number;
  weight: number;
  keys: Array<{ id: string; secret: string }>;
  /** Next key of the pool to use (round robin). */
  keyCursor: number;
}

export interface CatalogRoute {
  channel: CatalogChannel;
  upstreamModel: string;
  priority: number;
  weight: number;
}

export interface ModelPrices {
  input: number;
  output: number;
  cachedInput: number | null;
  /** Per-unit prices (images, audio seconds, speech characters, search units); null: none. */
  units?: UnitPrices | null;
}

export interface CatalogModel {
  id: string;
  name: string;
  active: boolean;
  prices: ModelPrices;
  /** Discount on `prices` for batch lines, percent (0 = none). */
  batchDiscountPercent: number;
  contextWindow: number | null;
  maxOutputTokens: number | null;
  capabilities: string[];
  createdAt: number;
  routes: CatalogRoute[];
  /** Routing strategy of this model; null = the instance default. */
  strategy: Strategy | null;
  /** Models to try, in order, when every target of this one failed. */
  fallbacks: string[];
  /** Answers are cached this long (ms) without the client asking; null = only on request (docs/response-cache.md). */
  cacheTtlMs: number | null;
  /** The largest chat-template overhead among the model's routes: reservations are made before routing. */
  promptOverhead: PromptOverhead;
}

const NO_OVERHEAD: PromptOverhead = { perRequest: 0, perMessage: 0, withTools: 0 };

/** The field-wise maximum of the routes' providers' template overheads (none without routes). */
function largestOverhead(routes: CatalogRoute[]): PromptOverhead {
  if (routes.length === 0) return NO_OVERHEAD;
  let perRequest = 0;
  let perMessage = 0;
  let withTools = 0;
  for (const { channel } of routes) {
    const o = channel.adapter.promptOverhead;
    perRequest = Math.max(perRequest, o.perRequest);
    perMessage = Math.max(perMessage, o.perMessage);
    withTools = Math.max(withTools, o.withTools);
  }
  return { perRequest, perMessage, withTools };
}

/** A stand-in for a model name the catalog does not know: no prices, no routes (for recording refusals). */
export function unknownModel(name: string): CatalogModel {
  return {
    id: '',
    name,
    active: false,
    prices: { input: 0, output: 0, cachedInput: null },
    batchDiscountPercent: 0,
    contextWindow: null,
    maxOutputTokens: null,
    capabilities: [],
    createdAt: 0,
    routes: [],
    strategy: null,
    fallbacks: [],
    cacheTtlMs: null,
    promptOverhead: NO_OVERHEAD,
  };
}

/**
 * The in-memory snapshot of channels (with decrypted keys), models, prices and routes that the data
 * plane reads on every request without touching the database (DESIGN.md §2 rule 1). Rebuilt on change.
 */
export class Catalog {
  #models = new Map<string, CatalogModel>();
  #channels = new Map<string, CatalogChannel>();
  #loading: Promise<void> | undefined;

  constructor(private readonly source: CatalogSource) {}

  getModel(name: string): CatalogModel | undefined {
    return this.#models.get(name);
  }

  getChannel(id: string): CatalogChannel | undefined {
    return this.#channels.get(id);
  }

  allModels(): IterableIterator<CatalogModel> {
    return this.#models.values();
  }

  allChannels(): CatalogChannel[] {
    return [...this.#channels.values()];
  }

  /** Rebuild the snapshot; concurrent calls share one reload that starts after the latest change. */
  async reload(): Promise<void> {
    const previous = this.#loading;
    const next = (async () => {
      if (previous) await previous.catch(() => undefined);
      await this.build();
    })();
    this.#loading = next;
    try {
      await next;
    } finally {
      if (this.#loading === next) this.#loading = undefined;
    }
  }

  private async build(): Promise<void> {
    const [channelRows, modelRows, routeRows, tagRouteRows] = await Promise.all([
      this.source.loadChannels(),
      this.source.listModels(),
      this.source.listRoutes(),
      this.source.listTagRoutes?.() ?? [],
    ]);
    const channels = new Map<string, CatalogChannel>();
    for (const { row, options, groups, tags, keys } of channelRows) {
      const adapter = getProvider(row.type);
      if (!adapter) continue;
      const old = this.#channels.get(row.id);
      channels.set(row.id, {
        id: row.id,
        name: row.name,
        type: row.type,
        adapter,
        baseUrl: row.base_url ?? adapter.baseUrl.default ?? '',
        active: row.status === 'active',
        disabledReason: row.disabled_reason,
        options,
        groups,
        tags: tags ?? [],
        timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
        priority: row.priority,
        weight: row.weight,
        keys,
        keyCursor: old?.keyCursor ?? 0,
      });
    }
    const models = new Map<string, CatalogModel>();
    for (const m of modelRows) {
      const routes = buildModelRoutes(
        m.name,
        routeRows.filter((r) => r.model_id === m.id),
        tagRouteRows.filter((r) => r.model_id === m.id),
        channels,
      );
      models.set(m.name, {
        id: m.id,
        name: m.name,
        active: m.status === 'active',
        prices: {
          input: m.input_price,
          output: m.output_price,
          cachedInput: m.cached_input_price,
          units: parseUnitPrices(m.unit_prices),
        },
        batchDiscountPercent: m.batch_discount_percent ?? 0,
        contextWindow: m.context_window,
        maxOutputTokens: m.max_output_tokens,
        capabilities: stringsOf(m.capabilities),
        createdAt: m.created_at,
        routes,
        strategy: STRATEGIES.includes(m.strategy as Strategy) ? (m.strategy as Strategy) : null,
        fallbacks: m.fallback_models ? (JSON.parse(m.fallback_models) as string[]) : [],
        cacheTtlMs: m.cache_ttl_seconds ? m.cache_ttl_seconds * 1000 : null,
        promptOverhead: largestOverhead(routes),
      });
    }
    this.#channels = channels;
    this.#models = models;
  }
}

/** A JSON array column's strings (anything else in it is ignored). */
function stringsOf(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
