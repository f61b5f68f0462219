import { Type } from '@sinclair/typebox';
import { EpochMs } from '../../http/schemas.js';

const StringEnum = <T extends string>(values: readonly T[], description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );

export const AnalyticsQuery = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'Start (epoch ms); default: 24 hours before `to`' })),
  to: Type.Optional(Type.Integer({ minimum: 1, description: 'End, exclusive (epoch ms); default: now' })),
  interval: Type.Optional(
    StringEnum(['minute', 'hour', 'day'], "Bucket width of the series (default: the range's own table)"),
  ),
  groupBy: Type.Optional(
    StringEnum(['model', 'channel', 'key', 'user', 'team', 'organization', 'status'], 'What the groups are'),
  ),
  metrics: Type.Optional(
    Type.String({
      pattern: '^[a-z0-9_]+(,[a-z0-9_]+)*$',
      description:
        'Comma-separated: requests, errors, error_rate, tokens, prompt_tokens, completion_tokens, cost, price, latency_avg, latency_p50, latency_p95, latency_p99, ttft_p50, ttft_p95',
    }),
  ),
  top: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, description: 'Groups returned, largest first (default 10)' }),
  ),
  sort: Type.Optional(
    StringEnum(['requests', 'errors', 'tokens', 'cost', 'price'], 'How groups are ranked (default requests)'),
  ),
  model: Type.Optional(Type.String({ maxLength: 200 })),
  channelId: Type.Optional(Type.String({ maxLength: 100 })),
  keyId: Type.Optional(
    Type.String({ maxLength: 4000, description: 'One key id, or several separated by commas (at most 100)' }),
  ),
  userId: Type.Optional(Type.String({ maxLength: 100 })),
  teamId: Type.Optional(Type.String({ maxLength: 100 })),
  status: Type.Optional(
    Type.String({ pattern: '^(success|error|[1-5]xx)$', description: "'success', 'error' or a status class ('4xx')" }),
  ),
  scope: Type.Optional(StringEnum(['own', 'team', 'all'], 'Narrow to your own requests or your teams’')),
  format: Type.Optional(StringEnum(['json', 'csv'], 'csv: the series as CSV (with percentiles per group and bucket)')),
  seriesPercentiles: Type.Optional(
    Type.Boolean({
      description:
        'Percentiles for every group and bucket of `series` too (default false: `series` has counters, `timeline`, `groups` and `totals` have percentiles); slower over long ranges',
    }),
  ),
});

const Nullable = <T extends ReturnType<typeof Type.Number>>(schema: T) => Type.Union([schema, Type.Null()]);

export const MetricsSchema = Type.Object({
  requests: Type.Integer(),
  errors: Type.Integer(),
  errorRate: Type.Number(),
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  cachedTokens: Type.Integer(),
  reasoningTokens: Type.Integer(),
  tokens: Type.Integer(),
  costMicros: Type.Integer({ description: 'Upstream cost, micro-USD' }),
  priceMicros: Type.Integer({ description: 'List price (what the customer pays), micro-units' }),
  latencyAvgMs: Nullable(Type.Number()),
  latencyP50Ms: Nullable(Type.Number({ description: 'From the rollups’ histograms: within one bucket (≤ 41 %)' })),
  latencyP95Ms: Nullable(Type.Number()),
  latencyP99Ms: Nullable(Type.Number()),
  ttftP50Ms: Nullable(Type.Number()),
  ttftP95Ms: Nullable(Type.Number()),
});

export const AnalyticsSchema = Type.Object({
  grain: Type.String({ description: 'The rollup table read: minute, hour or day' }),
  interval: Type.String(),
  from: EpochMs,
  to: EpochMs,
  groupBy: Type.Union([Type.String(), Type.Null()]),
  metrics: Type.Array(Type.String()),
  totals: MetricsSchema,
  groups: Type.Array(
    Type.Object({ key: Type.String(), label: Type.Union([Type.String(), Type.Null()]), metrics: MetricsSchema }),
  ),
  series: Type.Array(Type.Object({ at: EpochMs, key: Type.String(), metrics: MetricsSchema }), {
    description: 'Per top-N group and bucket; latency/TTFT percentiles only with seriesPercentiles=true',
  }),
  timeline: Type.Array(Type.Object({ at: EpochMs, metrics: MetricsSchema }), {
    description: 'Per bucket, every request of the filter (all groups, not only the top-N), with percentiles',
  }),
});

export const SavedViewSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  query: Type.Record(Type.String(), Type.String()),
  createdAt: EpochMs,
});

export const SavedViewList = Type.Object({ data: Type.Array(SavedViewSchema) });

export const SavedViewBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  query: Type.Record(Type.String({ maxLength: 50 }), Type.String({ maxLength: 500 }), { maxProperties: 30 }),
});

export const ViewIdParam = Type.Object({ id: Type.String({ maxLength: 100 }) });
