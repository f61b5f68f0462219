import { Type } from '@sinclair/typebox';
import { OrNull } from '../../http/schemas.js';
import { PROVIDER_IDS } from '../../providers/registry.js';

export const ChannelTimeoutsSchema = Type.Object(
  {
    connectMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    firstByteMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    idleMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    totalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 7_200_000 })),
  },
  { additionalProperties: false },
);

export const ChannelOptionsSchema = Type.Object(
  {
    headers: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 2000 }))),
    timeouts: Type.Optional(ChannelTimeoutsSchema),
    modelMapping: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 256 }))),
    provider: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 500 }))),
    limits: Type.Optional(
      Type.Object(
        { rpm: Type.Optional(Type.Integer({ minimum: 1 })), tpm: Type.Optional(Type.Integer({ minimum: 1 })) },
        {
          additionalProperties: false,
          description: 'Requests/tokens per minute the provider allows this channel; routing skips it while saturated',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Channel group names: organizations and teams may be limited to the channels of some groups. */
export const ChannelGroupNames = Type.Array(
  Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$', description: 'Letters, digits, _ . - (max 40)' }),
  { maxItems: 50 },
);

/** Channel tags: labels for the console's filters, and model routes may name a tag instead of a channel. */
export const ChannelTagNames = Type.Array(
  Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$', description: 'Letters, digits, _ . - (max 40)' }),
  { maxItems: 50 },
);

export const ChannelBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    type: Type.String({
      minLength: 1,
      maxLength: 40,
      description: `One of ${PROVIDER_IDS.join(', ')} (GET /api/admin/providers describes each)`,
    }),
    baseUrl: Type.Optional(OrNull(Type.String({ maxLength: 500 }))),
    keys: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 4000 }), {
        maxItems: 100,
        description: 'Provider keys (write-only, encrypted at rest)',
      }),
    ),
    options: Type.Optional(ChannelOptionsSchema),
    groups: Type.Optional({
      ...ChannelGroupNames,
      minItems: 1,
      description:
        'Groups the channel is in (default ["default"]); organizations and teams limited to groups use only their channels',
    }),
    tags: Type.Optional({
      ...ChannelTagNames,
      description: 'Labels: filters in the console, and model routes may name a tag to reach every channel with it',
    }),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ChannelSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: Type.String(),
    baseUrl: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    disabledReason: Type.Union([Type.String(), Type.Null()]),
    options: ChannelOptionsSchema,
    groups: Type.Array(Type.String()),
    tags: Type.Array(Type.String()),
    balance: Type.Union(
      [
        Type.Object({
          currency: Type.String(),
          remainingMicros: Type.Union([Type.Integer(), Type.Null()], {
            description: 'Credit left, in millionths of `currency`',
          }),
          usedMicros: Type.Union([Type.Integer(), Type.Null()]),
          limitMicros: Type.Union([Type.Integer(), Type.Null()]),
          fetchedAt: Type.Integer(),
        }),
        Type.Null(),
      ],
      { description: "The upstream account's balance as last fetched (POST …/balance refreshes it)" },
    ),
    priority: Type.Integer(),
    weight: Type.Integer(),
    keys: Type.Array(Type.Object({ id: Type.String(), hint: Type.String(), status: Type.String() })),
    createdAt: Type.Integer(),
    updatedAt: Type.Integer(),
    health: Type.Object(
      {
        status: Type.Union([
          Type.Literal('healthy'),
          Type.Literal('degraded'),
          Type.Literal('down'),
          Type.Literal('unknown'),
        ]),
        latencyMs: Type.Union([Type.Integer(), Type.Null()], { description: 'Moving average of time to first token' }),
        successRate: Type.Union([Type.Number(), Type.Null()], {
          description: 'Share of the last 100 requests per model that succeeded',
        }),
        inflight: Type.Integer(),
        lastError: Type.Union([Type.String(), Type.Null()]),
        lastErrorAt: Type.Union([Type.Integer(), Type.Null()]),
        lastSuccessAt: Type.Union([Type.Integer(), Type.Null()]),
        lastCheck: Type.Union([
          Type.Object({
            at: Type.Integer(),
            ok: Type.Boolean(),
            latencyMs: Type.Integer(),
            error: Type.Union([Type.String(), Type.Null()]),
          }),
          Type.Null(),
        ]),
      },
      { description: 'Live health on this instance' },
    ),
  },
  { $id: 'Channel' },
);

export const ChannelListSchema = Type.Object({ data: Type.Array(Type.Ref('Channel')) });

export const ChannelPatchBody = Type.Partial(ChannelBody, { additionalProperties: false, minProperties: 1 });

export const ChannelTestBody = Type.Optional(
  Type.Object({ model: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false }),
);

/** What a channel test found. */
export const ChannelTestResultSchema = Type.Object({
  ok: Type.Boolean(),
  latencyMs: Type.Integer(),
  model: Type.String(),
  status: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  reply: Type.Union([Type.String(), Type.Null()]),
});

export const ChannelTestAllBody = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000, description: 'Only these channels' }),
    ),
    tag: Type.Optional(Type.String({ maxLength: 40, description: 'Only channels with this tag' })),
    type: Type.Optional(Type.String({ maxLength: 40, description: 'Only channels of this provider type' })),
    enabledOnly: Type.Optional(Type.Boolean({ description: 'Skip disabled channels' })),
    allModels: Type.Optional(
      Type.Boolean({ description: "Test every model routed to each channel, not only the channel's first" }),
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 8, description: 'Tests at once (default 4)' })),
  },
  { additionalProperties: false },
);

export const UpstreamModelsSchema = Type.Object({
  data: Type.Array(Type.String(), { description: 'Model ids the upstream lists, sorted' }),
});

export const UpstreamProbeBody = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 40 }),
    baseUrl: Type.Optional(OrNull(Type.String({ maxLength: 500 }))),
    key: Type.Optional(
      Type.String({ maxLength: 4000, description: 'A provider key (used for this call only, never stored)' }),
    ),
    headers: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 2000 }))),
    provider: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 500 }))),
  },
  { additionalProperties: false },
);

export const ChannelBulkBody = Type.Object(
  {
    ids: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 1000 }),
    action: Type.Union(
      ['enable', 'disable', 'delete', 'tag', 'untag'].map((a) => Type.Literal(a)),
      { description: 'enable | disable | delete | tag (add `tags`) | untag (remove `tags`)' },
    ),
    tags: Type.Optional(ChannelTagNames),
  },
  { additionalProperties: false },
);

export const ChannelBulkResultSchema = Type.Object({
  action: Type.String(),
  ids: Type.Array(Type.String(), { description: 'The channels acted on' }),
});

export const ChannelCopyBody = Type.Optional(
  Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
      enabled: Type.Optional(Type.Boolean({ description: 'Start enabled (default: disabled, to check it first)' })),
    },
    { additionalProperties: false },
  ),
);
