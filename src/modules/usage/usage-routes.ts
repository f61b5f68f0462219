import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import { bearerSecurity, EpochMs, errorResponses } from '../../http/schemas.js';
import type { Guards } from '../auth/guard.js';
import { principalOf } from '../auth/guard.js';
import type { KeysService } from '../keys/service.js';
import type { KeyVerifier } from '../keys/verifier.js';
import { policyFromColumns } from '../limits/policy.js';
import { LimitPolicySchema, PeriodSchema } from '../limits/schema.js';
import type { LimitsService } from '../limits/service.js';
import type { UsageSummary } from './summary.js';

const Meter = Type.Object({
  period: PeriodSchema,
  used: Type.Integer(),
  limit: Type.Union([Type.Integer(), Type.Null()]),
  remaining: Type.Union([Type.Integer(), Type.Null()]),
  resetsAt: Type.Union([EpochMs, Type.Null()]),
});
const ScopeUsageSchema = Type.Object({
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
const CurrentUsage = Type.Object({
  user: Type.Union([Type.Object({ id: Type.String(), usage: ScopeUsageSchema }), Type.Null()]),
  keys: Type.Array(KeyUsage),
});
const Daily = Type.Object({
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
    },
    { description },
  );
const Overview = Type.Object({
  today: windowTotals('Since 00:00 UTC today'),
  week: windowTotals('The last 7 UTC days, today included'),
  month: windowTotals('The last 30 UTC days, today included'),
  users: Type.Object({
    total: Type.Integer({ description: 'Every account' }),
    active: Type.Integer({ description: 'Accounts with status active' }),
  }),
  keys: Type.Object({
    total: Type.Integer({ description: 'Every API key, revoked ones included' }),
    active: Type.Integer({ description: 'Keys with status active that have not expired' }),
  }),
});
const HistoryRange = {
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'Epoch ms, inclusive; default `to` − 30 days' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'Epoch ms, exclusive; default now' })),
};
const DAY_MS = 86_400_000;

/** The `[from, to)` of a history query: the last 30 days by default, at most 400 days. */
function historyRange(query: { from?: number | undefined; to?: number | undefined }, now: number) {
  const to = query.to ?? now + 1;
  const from = query.from ?? to - 30 * DAY_MS;
  if (from >= to) throw new ApiError('validation_failed', 'from must be before to', { param: 'from' });
  if (to - from > 400 * DAY_MS)
    throw new ApiError('validation_failed', 'The range may span at most 400 days', { param: 'from' });
  return { from, to };
}

export interface UsageRoutesDeps {
  summary: UsageSummary;
  keys: KeysService;
  verifier: KeyVerifier;
  limits: LimitsService;
  guards: Guards;
  clock: Clock;
}

/**
 * GET /api/usage/current and /api/usage/history: what the dashboards show (an API key may call them too);
 * GET /api/admin/usage/history and /api/admin/usage/overview: the same across every user, for admins.
 */
export function usageRoutes({
  summary,
  keys,
  verifier,
  limits,
  guards,
  clock,
}: UsageRoutesDeps): FastifyPluginAsyncTypebox {
  /** A request authenticated by an API key (sk-…) gets that key only. */
  const keyCaller = async (request: FastifyRequest): Promise<string | null> => {
    const auth = request.headers.authorization ?? '';
    const secret = /^Bearer\s+(sk-\S+)$/i.exec(auth)?.[1];
    if (!secret) return null;
    const result = await verifier.verify(secret);
    if (!result.ok) throw new ApiError('unauthorized', 'Invalid API key');
    return result.key.id;
  };
  const userOrKey = async (request: FastifyRequest, reply: Parameters<Guards['user']>[1]) => {
    if (await keyCaller(request)) return;
    await guards.user.call(undefined as never, request, reply);
  };

  return async (app) => {
    app.get(
      '/api/usage/current',
      {
        onRequest: userOrKey,
        schema: {
          tags: ['usage'],
          summary:
            'Spend, tokens, limits, what is left and when it resets — for you and each of your keys (or for the calling API key)',
          security: bearerSecurity,
          response: { 200: CurrentUsage, ...errorResponses },
        },
      },
      async (request) => {
        const keyId = await keyCaller(request);
        const keyUsage = async (
          row: Parameters<typeof policyFromColumns>[0] & { id: string; name: string; hint: string; status: string },
        ) => ({
          id: row.id,
          name: row.name,
          hint: row.hint,
          status: row.status,
          usage: await summary.forScope('key', row.id, policyFromColumns(row)),
        });
        if (keyId) {
          const row = await keys.getById(keyId);
          return { user: null, keys: [await keyUsage(row)] };
        }
        const principal = principalOf(request);
        if (principal.kind !== 'user')
          throw new ApiError('bad_request', 'The master key has no usage of its own; see /api/admin/logs');
        const { rows } = await keys.list({ userId: principal.userId, status: 'active', limit: 500, offset: 0 });
        return {
          user: {
            id: principal.userId,
            usage: await summary.forScope('user', principal.userId, limits.get('user', principal.userId)),
          },
          keys: await Promise.all(rows.map(keyUsage)),
        };
      },
    );

    app.get(
      '/api/usage/history',
      {
        onRequest: userOrKey,
        schema: {
          tags: ['usage'],
          summary:
            'Daily requests, tokens and cost by model (UTC days) for you, one of your keys, or the calling API key',
          security: bearerSecurity,
          querystring: Type.Object({ ...HistoryRange, keyId: Type.Optional(Type.String({ maxLength: 64 })) }),
          response: { 200: Type.Object({ data: Type.Array(Daily) }), ...errorResponses },
        },
      },
      async (request) => {
        const { from, to } = historyRange(request.query, clock.now());
        const callingKey = await keyCaller(request);
        if (callingKey) return { data: await summary.daily('key', callingKey, from, to) };
        const principal = principalOf(request);
        if (request.query.keyId) {
          await keys.getVisible(request.query.keyId, principal);
          return { data: await summary.daily('key', request.query.keyId, from, to) };
        }
        if (principal.kind !== 'user')
          throw new ApiError('bad_request', 'Pass keyId, or use /api/admin/logs with the master key');
        return { data: await summary.daily('user', principal.userId, from, to) };
      },
    );

    app.get(
      '/api/admin/usage/history',
      {
        onRequest: guards.admin,
        schema: {
          tags: ['admin: usage'],
          summary: 'Daily requests, tokens and cost by model (UTC days) across every user, or for one user',
          security: bearerSecurity,
          querystring: Type.Object({ ...HistoryRange, userId: Type.Optional(Type.String({ maxLength: 64 })) }),
          response: { 200: Type.Object({ data: Type.Array(Daily) }), ...errorResponses },
        },
      },
      async (request) => {
        const { from, to } = historyRange(request.query, clock.now());
        return { data: await summary.dailyForAll(from, to, request.query.userId) };
      },
    );

    app.get(
      '/api/admin/usage/overview',
      {
        onRequest: guards.admin,
        schema: {
          tags: ['admin: usage'],
          summary:
            'Requests, errors, tokens, cost and active users today, this week and this month; user and key counts',
          security: bearerSecurity,
          response: { 200: Overview, ...errorResponses },
        },
      },
      async () => summary.overview(),
    );
  };
}
