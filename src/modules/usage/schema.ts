import { Type } from '@sinclair/typebox';
import { EpochMs } from '../../http/schemas.js';
import { LimitPolicySchema, PeriodSchema } from '../limits/schema.js';

/** One request of the log, as /api/logs lists it. */
export const LogEntrySchema = Type.Object({
  id: Type.String(),
  at: EpochMs,
  userId: Type.Union([Type.String(), Type.Null()]),
  keyId: Type.Union([Type.String(), Type.Null()]),
  orgId: Type.Union([Type.String(), Type.Null()]),
  teamId: Type.Union([Type.String(), Type.Null()]),
  channelId: Type.Union([Type.String(), Type.Null()]),
  model: Type.String(),
  upstreamModel: Type.Union([Type.String(), Type.Null()]),
  endpoint: Type.String(),
  stream: Type.Boolean(),
  status: Type.Integer(),
  errorCode: Type.Union([Type.String(), Type.Null()]),
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  cachedTokens: Type.Integer(),
  reasoningTokens: Type.Integer(),
  estimated: Type.Boolean(),
  costMicros: Type.Integer({ description: 'Cost in micro-USD (1 USD = 1,000,000)' }),
  priceMicros: Type.Integer({ description: 'List price: what the customer pays (cost × multiplier), micro-units' }),
  latencyMs: Type.Integer(),
  ttftMs: Type.Union([Type.Integer(), Type.Null()]),
  clientIp: Type.Union([Type.String(), Type.Null()]),
  cache: Type.Union([Type.Literal('hit'), Type.Literal('miss'), Type.Null()], {
    description:
      'hit: answered from the response cache (no upstream cost); miss: asked the cache and stored the answer',
  }),
  attempts: Type.Array(
    Type.Object({
      channelId: Type.String(),
      status: Type.Integer({ description: "The gateway's status for this failure (e.g. 502 for an upstream 500)" }),
      upstreamStatus: Type.Union([Type.Integer(), Type.Null()], {
        description: "The upstream's HTTP status; null when it answered none (unreachable, timed out)",
      }),
      error: Type.String(),
      ms: Type.Integer(),
    }),
  ),
  hasBodies: Type.Boolean({ description: 'Whether the log kept the request and response bodies (setting logBodies)' }),
});
export const LogDetailSchema = Type.Composite([
  LogEntrySchema,
  Type.Object({
    requestBody: Type.Union([Type.String(), Type.Null()], {
      description: "The client's request body as logged (JSON text, cut at logBodyMaxChars), or null",
    }),
    responseBody: Type.Union([Type.String(), Type.Null()], {
      description: 'The answer as sent (JSON, or the SSE text of a stream; cut at logBodyMaxChars), or null',
    }),
  }),
]);
export const LogIdParam = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const LogFilters = {
  from: Type.Optional(EpochMs),
  to: Type.Optional(EpochMs),
  keyId: Type.Optional(Type.String({ maxLength: 64 })),
  model: Type.Optional(Type.String({ maxLength: 256 })),
  status: Type.Optional(
    Type.String({ pattern: '^(success|error|\\d{3})$', description: 'success, error, or an HTTP status' }),
  ),
  before: Type.Optional(
    Type.String({ maxLength: 64, description: 'Cursor: the id of the last row of the previous page' }),
  ),
};
export const AdminLogFilters = {
  ...LogFilters,
  userId: Type.Optional(Type.String({ maxLength: 64 })),
  channelId: Type.Optional(Type.String({ maxLength: 64 })),
};
export const PageLimit = { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) };
export const LogPage = Type.Object({
  data: Type.Array(LogEntrySchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

const Meter = Type.Object({
  period: PeriodSchema,
  used: Type.Integer(),
  limit: Type.Union([Type.Integer(), Type.Null()]),
  remaining: Type.Union([Type.Integer(), Type.Null()]),
  resetsAt: Type.Union([EpochMs, Type.Null()]),
});
/** What a key, user, team or organization used in its current periods. */
export const ScopeUsageSchema = Type.Object({
  requests: Type.Integer({ description: 'Requests since the start of the longer of the two periods' }),
  spend: Meter,
  tokens: Meter,
  limits: LimitPolicySchema,
});
const KeyUsage = Type.Object({
  id: Type.String(),
  name: Type.String(),
  hint: Type.String(),
  status: Type.String(),
  usage: ScopeUsageSchema,
});
export const CurrentUsageSchema = Type.Object({
  user: Type.Union([Type.Object({ id: Type.String(), usage: ScopeUsageSchema }), Type.Null()]),
  keys: Type.Array(KeyUsage),
});
export const DailySchema = Type.Object({
  date: Type.String(),
  model: Type.String(),
  requests: Type.Integer(),
  errors: Type.Integer(),
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  cachedTokens: Type.Integer(),
  costMicros: Type.Integer(),
});
const windowTotals = (description: string) =>
  Type.Object(
    {
      requests: Type.Integer(),
      errors: Type.Integer({ description: 'Requests answered with an HTTP status ≥ 400' }),
      promptTokens: Type.Integer(),
      completionTokens: Type.Integer(),
      costMicros: Type.Integer({ description: 'micro-USD' }),
      activeUsers: Type.Integer({ description: 'Distinct users with at least one request in the window' }),
      cacheHits: Type.Integer({ description: 'Requests answered from the response cache' }),
      cacheMisses: Type.Integer({
        description:
          'Requests that asked the response cache and were not answered from it (hit rate = hits / (hits + misses))',
      }),
    },
    { description },
  );
export const OverviewSchema = Type.Object({
  today: windowTotals('Since 00:00 UTC today'),
  week: windowTotals('The last 7 UTC days, today included'),
  month: windowTotals('The last 30 UTC days, today included'),
  users: Type.Object({
    total: Type.Integer({ description: 'Every member of the organization' }),
    active: Type.Integer({ description: 'Members whose account is active' }),
  }),
  keys: Type.Object({
    total: Type.Integer({ description: 'Every API key of the organization, revoked ones included' }),
    active: Type.Integer({ description: 'Keys with status active that have not expired' }),
  }),
});
export const HistoryRangeQuery = {
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'Epoch ms, inclusive; default `to` − 30 days' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'Epoch ms, exclusive; default now' })),
};

const LogScope = {
  scope: Type.Optional(
    Type.Union([Type.Literal('own'), Type.Literal('team'), Type.Literal('all')], {
      description:
        "Narrow the rows: own (your requests), team (and your teams'), all (the organization's); default the widest you hold",
    }),
  ),
};
export const LogListQuery = Type.Object({ ...LogFilters, ...LogScope, ...PageLimit });
export const AdminLogListQuery = Type.Object({ ...AdminLogFilters, ...PageLimit });
export const LogExportQuery = Type.Object({ ...LogFilters, ...LogScope });
/** An export job: the list's filters, the admin list's user and channel too (they only narrow what you reach). */
export const LogExportJobBody = Type.Object({ ...AdminLogFilters, ...LogScope });
export const AdminLogExportQuery = Type.Object(AdminLogFilters);
export const HistoryQuery = Type.Object({ ...HistoryRangeQuery, keyId: Type.Optional(Type.String({ maxLength: 64 })) });
export const AdminHistoryQuery = Type.Object({
  ...HistoryRangeQuery,
  userId: Type.Optional(Type.String({ maxLength: 64 })),
});
export const DailyListSchema = Type.Object({ data: Type.Array(DailySchema) });
