import { Type } from '@sinclair/typebox';
import { STRATEGIES } from '../../gateway/index.js';
import { OrNull } from '../../http/schemas.js';

export const Micros = (description: string) => Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description });

export const Strategy = Type.Union(
  STRATEGIES.map((s) => Type.Literal(s)),
  {
    description:
      'weighted (default): random by weight; round_robin; lowest_latency: lowest moving-average time to first token; least_inflight',
  },
);

/** Per-unit prices (micro-USD per unit); a request that produced a priced unit is billed by it, not by tokens. */
export const UnitPricesSchema = Type.Object(
  {
    image: Type.Optional(Micros('micro-USD per image (any size/quality without its own entry in images)')),
    images: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9x_-]{1,32}(/[A-Za-z0-9_-]{1,32})?$' }), Micros('micro-USD'), {
        maxProperties: 40,
        description: 'micro-USD per image by "size/quality" (e.g. "1024x1024/hd") or by "size" alone',
      }),
    ),
    second: Type.Optional(Micros('micro-USD per second of audio input (transcriptions, translations)')),
    character: Type.Optional(Micros('micro-USD per character of speech input (audio/speech)')),
    searchUnit: Type.Optional(Micros('micro-USD per rerank search unit')),
  },
  { additionalProperties: false },
);

export const RouteBody = Type.Object(
  {
    channelId: Type.String({ maxLength: 64 }),
    upstreamModel: Type.Optional(OrNull(Type.String({ minLength: 1, maxLength: 256 }))),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

/** Channel tag names (the same form as channel groups). */
export const ChannelTagName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$',
  description: 'Letters, digits, _ . - (max 40)',
});

export const TagRouteBody = Type.Object(
  {
    tag: ChannelTagName,
    upstreamModel: Type.Optional(OrNull(Type.String({ minLength: 1, maxLength: 256 }))),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

export const ModelBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, description: 'The public name clients send as `model`' }),
    description: Type.Optional(OrNull(Type.String({ maxLength: 1000 }))),
    enabled: Type.Optional(Type.Boolean()),
    inputPrice: Type.Optional(Micros('micro-USD per 1M input tokens')),
    outputPrice: Type.Optional(Micros('micro-USD per 1M output tokens')),
    cachedInputPrice: Type.Optional(OrNull(Micros('micro-USD per 1M cached input tokens'))),
    unitPrices: Type.Optional(OrNull(UnitPricesSchema)),
    contextWindow: Type.Optional(OrNull(Type.Integer({ minimum: 1 }))),
    maxOutputTokens: Type.Optional(OrNull(Type.Integer({ minimum: 1 }))),
    capabilities: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 20 })),
    routes: Type.Optional(Type.Array(RouteBody, { maxItems: 100 })),
    tagRoutes: Type.Optional(
      Type.Array(TagRouteBody, {
        maxItems: 20,
        description:
          'Routes to every channel with a tag (expanded when the catalog is built; a channel also routed directly keeps its direct route)',
      }),
    ),
    strategy: Type.Optional(OrNull(Strategy)),
    fallbacks: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
        maxItems: 10,
        description: 'Models to try, in order, when every route of this one failed',
      }),
    ),
    batchDiscountPercent: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: 'Percent off the price of this model for lines of a batch (/v1/batches); 0 = none',
      }),
    ),
    cacheTtlSeconds: Type.Optional(
      OrNull(
        Type.Integer({
          minimum: 1,
          maximum: 30 * 86_400,
          description:
            'Cache answers for this model this many seconds (docs/response-cache.md); null = only on request',
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const ModelSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    inputPrice: Type.Integer(),
    outputPrice: Type.Integer(),
    cachedInputPrice: Type.Union([Type.Integer(), Type.Null()]),
    unitPrices: Type.Union([UnitPricesSchema, Type.Null()]),
    contextWindow: Type.Union([Type.Integer(), Type.Null()]),
    maxOutputTokens: Type.Union([Type.Integer(), Type.Null()]),
    capabilities: Type.Array(Type.String()),
    strategy: Type.Union([Type.String(), Type.Null()]),
    fallbacks: Type.Array(Type.String()),
    cacheTtlSeconds: Type.Union([Type.Integer(), Type.Null()]),
    batchDiscountPercent: Type.Integer(),
    routes: Type.Array(
      Type.Object({
        id: Type.String(),
        channelId: Type.String(),
        upstreamModel: Type.Union([Type.String(), Type.Null()]),
        priority: Type.Integer(),
        weight: Type.Integer(),
      }),
    ),
    tagRoutes: Type.Array(
      Type.Object({
        id: Type.String(),
        tag: Type.String(),
        upstreamModel: Type.Union([Type.String(), Type.Null()]),
        priority: Type.Integer(),
        weight: Type.Integer(),
      }),
    ),
    createdAt: Type.Integer(),
    updatedAt: Type.Integer(),
  },
  { $id: 'Model' },
);

export const ModelListSchema = Type.Object({ data: Type.Array(Type.Ref('Model')) });

/** The built-in price list (micro-USD per 1M tokens). */
export const DefaultPricesSchema = Type.Object({
  data: Type.Array(
    Type.Object({
      name: Type.String(),
      inputPrice: Type.Integer(),
      outputPrice: Type.Integer(),
      cachedInputPrice: Type.Union([Type.Integer(), Type.Null()]),
      unitPrices: Type.Union([UnitPricesSchema, Type.Null()]),
      contextWindow: Type.Union([Type.Integer(), Type.Null()]),
      capabilities: Type.Array(Type.String()),
    }),
  ),
});

export const ModelPatchBody = Type.Partial(ModelBody, { additionalProperties: false, minProperties: 1 });
