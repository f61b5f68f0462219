import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { parseUnitPrices, type UnitPrices } from '../../gateway/index.js';
import type { ModelRoutesTable, ModelsTable, ModelTagRoutesTable } from '../../infra/db/schema.js';
import { DEFAULT_PRICES } from './default-prices.js';
import type { ModelsRepository } from './repository.js';

export interface RouteInput {
  channelId: string;
  upstreamModel?: string | null | undefined;
  priority?: number | undefined;
  weight?: number | undefined;
}

/** A route to every channel with a tag (expanded when the catalog is built). */
export interface TagRouteInput {
  tag: string;
  upstreamModel?: string | null | undefined;
  priority?: number | undefined;
  weight?: number | undefined;
}

export interface ModelInput {
  name: string;
  description?: string | null | undefined;
  enabled?: boolean | undefined;
  /** micro-USD per 1M tokens; defaults from the built-in price list for well-known names, else 0. */
  inputPrice?: number | undefined;
  outputPrice?: number | undefined;
  cachedInputPrice?: number | null | undefined;
  /** micro-USD per image, audio second, speech character, search unit; null = none. */
  unitPrices?: UnitPrices | null | undefined;
  contextWindow?: number | null | undefined;
  maxOutputTokens?: number | null | undefined;
  capabilities?: string[] | undefined;
  routes?: RouteInput[] | undefined;
  /** Routes naming a channel tag instead of one channel. */
  tagRoutes?: TagRouteInput[] | undefined;
  /** One of the router's STRATEGIES (checked by the route schema); null = the instance default. */
  strategy?: string | null | undefined;
  /** Model names to try, in order, when every route of this model failed. */
  fallbacks?: string[] | undefined;
  /** Cache answers for this model this many seconds (docs/response-cache.md); null = only on request. */
  cacheTtlSeconds?: number | null | undefined;
  /** Percent (0–100) off this model's price for batch lines. */
  batchDiscountPercent?: number | undefined;
}

export interface ModelResponse {
  id: string;
  name: string;
  description: string | null;
  status: 'active' | 'disabled';
  inputPrice: number;
  outputPrice: number;
  cachedInputPrice: number | null;
  unitPrices: UnitPrices | null;
  contextWindow: number | null;
  maxOutputTokens: number | null;
  capabilities: string[];
  strategy: string | null;
  fallbacks: string[];
  cacheTtlSeconds: number | null;
  batchDiscountPercent: number;
  routes: Array<{ id: string; channelId: string; upstreamModel: string | null; priority: number; weight: number }>;
  tagRoutes: Array<{ id: string; tag: string; upstreamModel: string | null; priority: number; weight: number }>;
  createdAt: number;
  updatedAt: number;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;

/** Public models: names clients send, prices, and routes to channels. */
export class ModelsService {
  readonly #listeners: Array<() => Promise<void> | void> = [];

  constructor(
    private readonly repo: ModelsRepository,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  onChange(listener: () => Promise<void> | void): void {
    this.#listeners.push(listener);
  }

  async list(): Promise<ModelResponse[]> {
    const [models, routes, tagRoutes] = await Promise.all([
      this.repo.listAll(),
      this.repo.listRoutes(),
      this.repo.listTagRoutes(),
    ]);
    return models.map((m) =>
      toResponse(
        m,
        routes.filter((r) => r.model_id === m.id),
        tagRoutes.filter((r) => r.model_id === m.id),
      ),
    );
  }

  async get(id: string): Promise<ModelResponse> {
    const model = await this.repo.findById(id);
    if (!model) throw notFound('Model');
    return toResponse(model, await this.repo.listRoutes(id), await this.repo.listTagRoutes(id));
  }

  findByName(name: string): Promise<ModelsTable | undefined> {
    return this.repo.findByName(name);
  }

  private checkFallbacks(name: string, fallbacks: string[] | undefined): void {
    if (fallbacks?.includes(name))
      throw new ApiError('validation_failed', 'fallbacks must not name the model itself', { param: 'fallbacks' });
  }

  async create(input: ModelInput): Promise<ModelResponse> {
    this.checkFallbacks(input.name, input.fallbacks);
    if (!MODEL_NAME.test(input.name))
      throw new ApiError('validation_failed', 'name may use letters, digits and . _ : / @ - (up to 128)', {
        param: 'name',
      });
    if (await this.repo.findByName(input.name))
      throw new ApiError('conflict', `A model named ${input.name} already exists`, { param: 'name' });
    const known = DEFAULT_PRICES[input.name];
    const now = this.clock.now();
    const model: ModelsTable = {
      id: this.newId('mdl'),
      name: input.name,
      description: input.description ?? null,
      status: input.enabled === false ? 'disabled' : 'active',
      input_price: input.inputPrice ?? known?.input ?? 0,
      output_price: input.outputPrice ?? known?.output ?? 0,
      cached_input_price: input.cachedInputPrice !== undefined ? input.cachedInputPrice : (known?.cachedInput ?? null),
      unit_prices: unitPricesText(input.unitPrices !== undefined ? input.unitPrices : (known?.units ?? null)),
      context_window: input.contextWindow !== undefined ? input.contextWindow : (known?.contextWindow ?? null),
      max_output_tokens: input.maxOutputTokens ?? null,
      capabilities: JSON.stringify(input.capabilities ?? known?.capabilities ?? ['chat']),
      strategy: input.strategy ?? null,
      fallback_models: input.fallbacks && input.fallbacks.length > 0 ? JSON.stringify(input.fallbacks) : null,
      cache_ttl_seconds: input.cacheTtlSeconds ?? null,
      batch_discount_percent: input.batchDiscountPercent ?? 0,
      created_at: now,
      updated_at: now,
    };
    const routes = await this.buildRoutes(model.id, input.routes ?? [], now);
    await this.repo.save(model, routes, true, this.buildTagRoutes(model.id, input.tagRoutes ?? [], now));
    await this.emit();
    return this.get(model.id);
  }

  async update(id: string, patch: Partial<ModelInput>): Promise<ModelResponse> {
    const current = await this.repo.findById(id);
    if (!current) throw notFound('Model');
    this.checkFallbacks(patch.name ?? current.name, patch.fallbacks);
    if (patch.name !== undefined && patch.name !== current.name) {
      if (!MODEL_NAME.test(patch.name))
        throw new ApiError('validation_failed', 'name may use letters, digits and . _ : / @ - (up to 128)', {
          param: 'name',
        });
      if (await this.repo.findByName(patch.name))
        throw new ApiError('conflict', `A model named ${patch.name} already exists`, { param: 'name' });
    }
    const now = this.clock.now();
    const model: ModelsTable = {
      ...current,
      name: patch.name ?? current.name,
      description: patch.description !== undefined ? patch.description : current.description,
      status: patch.enabled === undefined ? current.status : patch.enabled ? 'active' : 'disabled',
      input_price: patch.inputPrice ?? current.input_price,
      output_price: patch.outputPrice ?? current.output_price,
      cached_input_price: patch.cachedInputPrice !== undefined ? patch.cachedInputPrice : current.cached_input_price,
      unit_prices: patch.unitPrices !== undefined ? unitPricesText(patch.unitPrices) : (current.unit_prices ?? null),
      context_window: patch.contextWindow !== undefined ? patch.contextWindow : current.context_window,
      max_output_tokens: patch.maxOutputTokens !== undefined ? patch.maxOutputTokens : current.max_output_tokens,
      capabilities: patch.capabilities ? JSON.stringify(patch.capabilities) : current.capabilities,
      strategy: patch.strategy !== undefined ? patch.strategy : current.strategy,
      fallback_models:
        patch.fallbacks !== undefined
          ? patch.fallbacks.length > 0
            ? JSON.stringify(patch.fallbacks)
            : null
          : current.fallback_models,
      cache_ttl_seconds: patch.cacheTtlSeconds !== undefined ? patch.cacheTtlSeconds : current.cache_ttl_seconds,
      batch_discount_percent: patch.batchDiscountPercent ?? current.batch_discount_percent ?? 0,
      updated_at: now,
    };
    const routes = patch.routes ? await this.buildRoutes(id, patch.routes, now) : undefined;
    const tagRoutes = patch.tagRoutes ? this.buildTagRoutes(id, patch.tagRoutes, now) : undefined;
    await this.repo.save(model, routes, false, tagRoutes);
    await this.emit();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.findById(id))) throw notFound('Model');
    await this.repo.delete(id);
    await this.emit();
  }

  private async buildRoutes(modelId: string, routes: RouteInput[], now: number): Promise<ModelRoutesTable[]> {
    if (routes.length === 0) return [];
    const ids = [...new Set(routes.map((r) => r.channelId))];
    const found = await this.repo.existingChannelIds(ids);
    const missing = ids.filter((id) => !found.includes(id));
    if (missing.length > 0)
      throw new ApiError('validation_failed', `routes: unknown channel ${missing.join(', ')}`, { param: 'routes' });
    return routes.map((r) => ({
      id: this.newId('rte'),
      model_id: modelId,
      channel_id: r.channelId,
      upstream_model: r.upstreamModel ?? null,
      priority: r.priority ?? 0,
      weight: r.weight ?? 1,
      created_at: now,
    }));
  }

  private buildTagRoutes(modelId: string, routes: TagRouteInput[], now: number): ModelTagRoutesTable[] {
    return routes.map((r) => ({
      id: this.newId('rte'),
      model_id: modelId,
      tag: r.tag,
      upstream_model: r.upstreamModel ?? null,
      priority: r.priority ?? 0,
      weight: r.weight ?? 1,
      created_at: now,
    }));
  }

  private async emit(): Promise<void> {
    for (const listener of this.#listeners) await listener();
  }
}

/** Unit prices as stored: JSON text, null when there are none. */
function unitPricesText(prices: UnitPrices | null): string | null {
  const parsed = prices ? parseUnitPrices(JSON.stringify(prices)) : null;
  return parsed ? JSON.stringify(parsed) : null;
}

export function parseCapabilities(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toResponse(m: ModelsTable, routes: ModelRoutesTable[], tagRoutes: ModelTagRoutesTable[]): ModelResponse {
  return {
    id: m.id,
    name: m.name,
    description: m.description,
    status: m.status,
    inputPrice: m.input_price,
    outputPrice: m.output_price,
    cachedInputPrice: m.cached_input_price,
    unitPrices: parseUnitPrices(m.unit_prices),
    contextWindow: m.context_window,
    maxOutputTokens: m.max_output_tokens,
    capabilities: parseCapabilities(m.capabilities),
    strategy: m.strategy,
    fallbacks: m.fallback_models ? (JSON.parse(m.fallback_models) as string[]) : [],
    cacheTtlSeconds: m.cache_ttl_seconds,
    batchDiscountPercent: m.batch_discount_percent ?? 0,
    routes: routes.map((r) => ({
      id: r.id,
      channelId: r.channel_id,
      upstreamModel: r.upstream_model,
      priority: r.priority,
      weight: r.weight,
    })),
    tagRoutes: tagRoutes.map((r) => ({
      id: r.id,
      tag: r.tag,
      upstreamModel: r.upstream_model,
      priority: r.priority,
      weight: r.weight,
    })),
    createdAt: m.created_at,
    updatedAt: m.updated_at,
  };
}
