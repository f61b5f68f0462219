import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import { bearerToken } from '../../http/bearer.js';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import { DEFAULT_ORG_ID } from '../../infra/db/migrations/0001_foundation.js';
import { logReach, type ReachScope } from '../access/reach.js';
import { principalOf } from '../auth/guard.js';
import { can, isAdmin, type Principal, userIdOf } from '../auth/principal.js';
import type { KeysService } from '../keys/service.js';
import type { KeyVerifier } from '../keys/verifier.js';
import type { LimitsService } from '../limits/service.js';
import type { LogsService } from './logs.js';
import {
  AdminHistoryQuery,
  AdminLogExportQuery,
  AdminLogListQuery,
  CurrentUsageSchema,
  DailyListSchema,
  HistoryQuery,
  LogDetailSchema,
  LogExportQuery,
  LogIdParam,
  LogListQuery,
  LogPage,
  OverviewSchema,
} from './schema.js';
import { type UsageCaller, UsageService } from './service.js';
import type { UsageSummary } from './summary.js';

/**
 * Requests made with the master key belong to no organization; platform admins see them with the Default
 * organization's (where wave-1 instances kept everything).
 */
function seesInstanceWide(principal: Principal): boolean {
  return isAdmin(principal) && principal.orgId === DEFAULT_ORG_ID;
}

/** An API key secret (what /v1 callers send), as opposed to a console access token. */
const API_KEY = /^sk-\S+$/;

export interface UsageRoutesDeps {
  logs: LogsService;
  summary: UsageSummary;
  keys: KeysService;
  verifier: KeyVerifier;
  limits: LimitsService;
  clock: Clock;
}

/**
 * The request log and what it adds up to:
 * GET /api/logs (your requests), GET /api/admin/logs (everyone's), one request with its bodies, CSV exports;
 * GET /api/usage/current and /api/usage/history: what the dashboards show (an API key may call them too);
 * GET /api/admin/usage/history and /api/admin/usage/overview: the same across every user, for admins.
 */
export function usageRoutes({
  logs,
  summary,
  keys,
  verifier,
  limits,
  clock,
}: UsageRoutesDeps): FastifyPluginAsyncTypebox {
  /** A request authenticated by an API key (sk-…) gets that key only. */
  const keyCaller = async (request: FastifyRequest): Promise<string | null> => {
    const secret = bearerToken(request.headers.authorization);
    if (!secret || !API_KEY.test(secret)) return null;
    const result = await verifier.verify(secret);
    if (!result.ok) throw new ApiError('unauthorized', 'Invalid API key');
    return result.key.id;
  };
  const usage = new UsageService({ summary, keys, limits, clock });
  /** Which rows of the request log a caller reaches in its organization, and whose bodies it sees. */
  const logAccess = (principal: Principal, scope?: ReachScope) => {
    const reach = logReach(principal, scope);
    const self = userIdOf(principal);
    return {
      orgId: principal.orgId,
      instanceWide: reach.all && seesInstanceWide(principal),
      within: reach.all ? undefined : { userId: reach.own ? self : null, teamIds: reach.teams },
      bodies: { all: can(principal, 'logs.bodies'), userId: self },
    };
  };
  /** The calling API key, or the signed-in principal. */
  const callerOf = async (request: FastifyRequest): Promise<UsageCaller> => {
    const keyId = await keyCaller(request);
    return keyId ? { kind: 'key', keyId } : { kind: 'principal', principal: principalOf(request) };
  };

  return async (app) => {
    app.get(
      '/api/logs',
      {
        config: { permission: ['logs.own', 'logs.team', 'logs.all'] },
        schema: {
          tags: ['logs'],
          summary:
            "Requests you reach in the current organization, newest first: yours (logs.own), your teams' (logs.team), everyone's (logs.all)",
          security: bearerSecurity,
          querystring: LogListQuery,
          response: { 200: LogPage, ...errorResponses },
        },
      },
      async (request) => {
        const { scope, ...query } = request.query;
        const { orgId, instanceWide, within } = logAccess(principalOf(request), scope);
        const limit = query.limit ?? 50;
        const data = await logs.list({ ...query, orgId, instanceWide, within, limit });
        return { data, nextCursor: data.length === limit ? (data[data.length - 1]?.id ?? null) : null };
      },
    );

    app.get(
      '/api/admin/logs',
      {
        config: { permission: 'logs.all' },
        schema: {
          tags: ['admin: logs'],
          summary: 'Every request of the current organization, newest first',
          security: bearerSecurity,
          querystring: AdminLogListQuery,
          response: { 200: LogPage, ...errorResponses },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 50;
        const { orgId, instanceWide } = logAccess(principalOf(request));
        const data = await logs.list({ ...request.query, orgId, instanceWide, limit });
        return { data, nextCursor: data.length === limit ? (data[data.length - 1]?.id ?? null) : null };
      },
    );

    app.get(
      '/api/logs/:id',
      {
        config: { permission: ['logs.own', 'logs.team', 'logs.all'] },
        schema: {
          tags: ['logs'],
          summary: "One request you reach, with its bodies if the log kept them (yours, or anyone's with logs.bodies)",
          security: bearerSecurity,
          params: LogIdParam,
          response: { 200: LogDetailSchema, ...errorResponses },
        },
      },
      async (request) => logs.get(request.params.id, logAccess(principalOf(request))),
    );

    app.get(
      '/api/admin/logs/:id',
      {
        config: { permission: 'logs.all' },
        schema: {
          tags: ['admin: logs'],
          summary: 'One request of the organization, with its bodies if kept (logs.bodies, or your own request)',
          security: bearerSecurity,
          params: LogIdParam,
          response: { 200: LogDetailSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { orgId, instanceWide, bodies } = logAccess(principalOf(request));
        return logs.get(request.params.id, { orgId, instanceWide, bodies });
      },
    );

    app.get(
      '/api/logs/export.csv',
      {
        config: { permission: ['logs.own', 'logs.team', 'logs.all'] },
        schema: {
          tags: ['logs'],
          summary: 'The requests you reach as CSV (streamed)',
          security: bearerSecurity,
          querystring: LogExportQuery,
        },
      },
      async (request, reply) => {
        const { scope, ...query } = request.query;
        const { orgId, instanceWide, within } = logAccess(principalOf(request), scope);
        reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="aihub-logs.csv"');
        return reply.send(Readable.from(logs.csv({ ...query, orgId, instanceWide, within })));
      },
    );

    app.get(
      '/api/admin/logs/export.csv',
      {
        config: { permission: 'logs.all' },
        schema: {
          tags: ['admin: logs'],
          summary: 'Every request of the organization as CSV (streamed)',
          security: bearerSecurity,
          querystring: AdminLogExportQuery,
        },
      },
      async (request, reply) => {
        reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="aihub-logs.csv"');
        const { orgId, instanceWide } = logAccess(principalOf(request));
        return reply.send(Readable.from(logs.csv({ ...request.query, orgId, instanceWide })));
      },
    );

    app.get(
      '/api/usage/current',
      {
        config: { permission: 'signed_in', apiKey: true },
        schema: {
          tags: ['usage'],
          summary:
            'Spend, tokens, limits, what is left and when it resets — for you and each of your keys (or for the calling API key)',
          security: bearerSecurity,
          response: { 200: CurrentUsageSchema, ...errorResponses },
        },
      },
      async (request) => usage.current(await callerOf(request)),
    );

    app.get(
      '/api/usage/history',
      {
        config: { permission: 'signed_in', apiKey: true },
        schema: {
          tags: ['usage'],
          summary:
            'Daily requests, tokens and cost by model (UTC days) for you, one of your keys, or the calling API key',
          security: bearerSecurity,
          querystring: HistoryQuery,
          response: { 200: DailyListSchema, ...errorResponses },
        },
      },
      async (request) => ({ data: await usage.history(await callerOf(request), request.query) }),
    );

    app.get(
      '/api/admin/usage/history',
      {
        config: { permission: 'usage.read' },
        schema: {
          tags: ['admin: usage'],
          summary: 'Daily requests, tokens and cost by model (UTC days) across the organization, or for one member',
          security: bearerSecurity,
          querystring: AdminHistoryQuery,
          response: { 200: DailyListSchema, ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        return { data: await usage.historyForAll(principal, request.query, seesInstanceWide(principal)) };
      },
    );

    app.get(
      '/api/admin/usage/overview',
      {
        config: { permission: 'usage.read' },
        schema: {
          tags: ['admin: usage'],
          summary:
            "The organization's requests, errors, tokens, cost and active users today, this week and this month; member and key counts",
          security: bearerSecurity,
          response: { 200: OverviewSchema, ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        return summary.overview(principal.orgId, seesInstanceWide(principal));
      },
    );
  };
}
