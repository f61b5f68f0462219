import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import type { UnitPrices } from '../gateway/unit-prices.js';
import type { ChannelsService } from '../modules/channels/service.js';
import type { ModelsService } from '../modules/models/service.js';

const StringMap = Type.Record(Type.String(), Type.String());

const ChannelSpec = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    type: Type.String({ minLength: 1 }),
    baseUrl: Type.Optional(Type.String()),
    keys: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    priority: Type.Optional(Type.Integer()),
    weight: Type.Optional(Type.Integer({ minimum: 0 })),
    groups: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$' }), { minItems: 1 })),
    tags: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$' }))),
    enabled: Type.Optional(Type.Boolean()),
    headers: Type.Optional(StringMap),
    modelMapping: Type.Optional(StringMap),
    provider: Type.Optional(StringMap),
    limits: Type.Optional(
      Type.Object(
        { rpm: Type.Optional(Type.Integer({ minimum: 1 })), tpm: Type.Optional(Type.Integer({ minimum: 1 })) },
        { additionalProperties: false },
      ),
    ),
    timeouts: Type.Optional(
      Type.Object(
        {
          connectMs: Type.Optional(Type.Integer()),
          firstByteMs: Type.Optional(Type.Integer()),
          idleMs: Type.Optional(Type.Integer()),
          totalMs: Type.Optional(Type.Integer()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const ModelSpec = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Type.String()),
    enabled: Type.Optional(Type.Boolean()),
    /** USD per 1M tokens (friendlier in a file than the API's micro-USD). */
    price: Type.Optional(
      Type.Object(
        {
          input: Type.Number({ minimum: 0 }),
          output: Type.Number({ minimum: 0 }),
          cachedInput: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** USD per unit: per image (any / by "size/quality"), per audio second, per speech character, per search unit. */
    unitPrices: Type.Optional(
      Type.Object(
        {
          image: Type.Optional(Type.Number({ minimum: 0 })),
          images: Type.Optional(Type.Record(Type.String(), Type.Number({ minimum: 0 }))),
          second: Type.Optional(Type.Number({ minimum: 0 })),
          character: Type.Optional(Type.Number({ minimum: 0 })),
          searchUnit: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    contextWindow: Type.Optional(Type.Integer({ minimum: 1 })),
    maxOutputTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    capabilities: Type.Optional(Type.Array(Type.String())),
    /** Percent off the price for lines of a batch (/v1/batches), 0–100. */
    batchDiscountPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    routes: Type.Array(
      Type.Object(
        {
          /** One channel by name, or `tag`: every channel with the tag. */
          channel: Type.Optional(Type.String()),
          tag: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$' })),
          upstreamModel: Type.Optional(Type.String()),
          priority: Type.Optional(Type.Integer()),
          weight: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const DeclarativeConfigSchema = Type.Object(
  { channels: Type.Optional(Type.Array(ChannelSpec)), models: Type.Optional(Type.Array(ModelSpec)) },
  { additionalProperties: false },
);
export type DeclarativeConfig = Static<typeof DeclarativeConfigSchema>;

/** Replace `${NAME}` and `${NAME:-default}` with environment values; a missing variable is an error. */
export function interpolateEnv(text: string, env: Record<string, string | undefined>, file: string): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_match, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      throw new Error(
        `${file}: environment variable ${name} is not set (write \${${name}:-default} to allow a default)`,
      );
    },
  );
}

/** Read, interpolate and validate a declarative config file; errors name the file and the path. */
export function readDeclarativeConfig(file: string, env: Record<string, string | undefined>): DeclarativeConfig {
  const text = interpolateEnv(readFileSync(file, 'utf8'), env, file);
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Value.Check(DeclarativeConfigSchema, data)) {
    const first = [...Value.Errors(DeclarativeConfigSchema, data)][0];
    throw new Error(`${file}: ${first?.path || '/'} ${first?.message ?? 'is invalid'}`);
  }
  return data;
}

const toMicros = (usd: number) => Math.round(usd * 1_000_000);

/** A file's unit prices (USD per unit) as the API's micro-USD per unit. */
function unitPricesInMicros(usd: Static<typeof ModelSpec>['unitPrices'] & object): UnitPrices {
  const out: UnitPrices = {};
  if (usd.image !== undefined) out.image = toMicros(usd.image);
  if (usd.second !== undefined) out.second = toMicros(usd.second);
  if (usd.character !== undefined) out.character = toMicros(usd.character);
  if (usd.searchUnit !== undefined) out.searchUnit = toMicros(usd.searchUnit);
  if (usd.images)
    out.images = Object.fromEntries(Object.entries(usd.images).map(([variant, price]) => [variant, toMicros(price)]));
  return out;
}

export interface ApplyReport {
  channelsCreated: number;
  channelsUpdated: number;
  modelsCreated: number;
  modelsUpdated: number;
}

/**
 * Apply the file: channels and models are matched by name and created or updated; things not in the file
 * are left alone. Running it twice gives the same state (idempotent).
 */
export async function applyDeclarativeConfig(
  config: DeclarativeConfig,
  deps: { channels: ChannelsService; models: ModelsService },
): Promise<ApplyReport> {
  const report: ApplyReport = { channelsCreated: 0, channelsUpdated: 0, modelsCreated: 0, modelsUpdated: 0 };
  const channelIds = new Map<string, string>();
  for (const spec of config.channels ?? []) {
    const input = {
      name: spec.name,
      type: spec.type,
      baseUrl: spec.baseUrl ?? null,
      keys: spec.keys ?? [],
      priority: spec.priority ?? 0,
      weight: spec.weight ?? 1,
      ...(spec.groups ? { groups: spec.groups } : {}),
      ...(spec.tags ? { tags: spec.tags } : {}),
      enabled: spec.enabled ?? true,
      options: {
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(spec.modelMapping ? { modelMapping: spec.modelMapping } : {}),
        ...(spec.provider ? { provider: spec.provider } : {}),
        ...(spec.timeouts ? { timeouts: spec.timeouts } : {}),
        ...(spec.limits ? { limits: spec.limits } : {}),
      },
    };
    const existing = await deps.channels.findByName(spec.name);
    if (existing) {
      await deps.channels.update(existing.id, input);
      channelIds.set(spec.name, existing.id);
      report.channelsUpdated++;
    } else {
      const created = await deps.channels.create(input);
      channelIds.set(spec.name, created.id);
      report.channelsCreated++;
    }
  }
  for (const spec of config.models ?? []) {
    const routes = [];
    const tagRoutes = [];
    for (const route of spec.routes) {
      const weighting = {
        upstreamModel: route.upstreamModel ?? null,
        priority: route.priority ?? 0,
        weight: route.weight ?? 1,
      };
      if ((route.tag === undefined) === (route.channel === undefined))
        throw new Error(`model ${spec.name}: a route names either a channel or a tag`);
      if (route.tag !== undefined) {
        tagRoutes.push({ tag: route.tag, ...weighting });
        continue;
      }
      const channelName = route.channel ?? '';
      const channelId = channelIds.get(channelName) ?? (await deps.channels.findByName(channelName))?.id;
      if (!channelId) throw new Error(`model ${spec.name}: route names unknown channel "${channelName}"`);
      routes.push({ channelId, ...weighting });
    }
    const input = {
      name: spec.name,
      description: spec.description ?? null,
      enabled: spec.enabled ?? true,
      ...(spec.price
        ? {
            inputPrice: toMicros(spec.price.input),
            outputPrice: toMicros(spec.price.output),
            cachedInputPrice: spec.price.cachedInput === undefined ? null : toMicros(spec.price.cachedInput),
          }
        : {}),
      ...(spec.unitPrices ? { unitPrices: unitPricesInMicros(spec.unitPrices) } : {}),
      ...(spec.contextWindow !== undefined ? { contextWindow: spec.contextWindow } : {}),
      ...(spec.maxOutputTokens !== undefined ? { maxOutputTokens: spec.maxOutputTokens } : {}),
      ...(spec.capabilities ? { capabilities: spec.capabilities } : {}),
      ...(spec.batchDiscountPercent !== undefined ? { batchDiscountPercent: spec.batchDiscountPercent } : {}),
      routes,
      tagRoutes,
    };
    const existing = await deps.models.findByName(spec.name);
    if (existing) {
      await deps.models.update(existing.id, input);
      report.modelsUpdated++;
    } else {
      await deps.models.create(input);
      report.modelsCreated++;
    }
  }
  return report;
}
