import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import { DEFAULT_ORG_ID } from '../../infra/db/migrations/0001_foundation.js';
import { logReach, type ReachScope } from '../access/reach.js';
import { principalOf } from '../auth/guard.js';
import { can, isAdmin, type Principal, userIdOf } from '../auth/principal.js';
import type { RollupScope } from './repository.js';
import {
  AnalyticsQuery,
  AnalyticsSchema,
  SavedViewBody,
  SavedViewList,
  SavedViewSchema,
  ViewIdParam,
} from './schema.js';
import { type AnalyticsService, DEFAULT_METRICS, METRICS, type Metric, toCsv } from './service.js';

/** Who may read analytics: the organization's usage, or the request logs they reach. */
const ANALYTICS_PERMISSION = ['usage.read', 'logs.own', 'logs.team', 'logs.all'] as const;
const DAY_MS = 86_400_000;

/**
 * Whose rollups a caller reads: usage.read or logs.all — the whole organization (platform admins in the
 * Default organization also the master key's requests); logs.team — their teams' and their own; logs.own —
 * their own. `scope` narrows it.
 */
export function rollupScopeOf(principal: Principal, scope?: ReachScope): RollupScope {
  const instanceWide = isAdmin(principal) && principal.orgId === DEFAULT_ORG_ID;
  if (can(principal, 'usage.read') && (scope === undefined || scope === 'all'))
    return { orgId: principal.orgId, instanceWide };
  const reach = logReach(principal, scope);
  if (reach.all) return { orgId: principal.orgId, instanceWide };
  return {
    orgId: principal.orgId,
    instanceWide: false,
    within: { userId: reach.own ? userIdOf(principal) : null, teamIds: reach.teams },
  };
}

export function parseMetrics(value: string | undefined): Metric[] {
  if (value === undefined) return [...DEFAULT_METRICS];
  const names = [...new Set(value.split(','))];
  const unknown = names.filter((m) => !(METRICS as readonly string[]).includes(m));
  if (unknown.length > 0)
    throw new ApiError('validation_failed', `unknown metric ${unknown.join(', ')}; known: ${METRICS.join(', ')}`);
  return names as Metric[];
}

export interface AnalyticsRoutesDeps {
  analytics: AnalyticsService;
  now: () => number;
}

/**
 * GET /api/analytics: totals, top-N groups and their series over the rollups (JSON or CSV);
 * GET/POST/DELETE /api/analytics/views: the caller's saved views.
 */
export function analyticsRoutes({ analytics, now }: AnalyticsRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/analytics',
      {
        config: { permission: ANALYTICS_PERMISSION },
        schema: {
          tags: ['analytics'],
          summary:
            'Requests, errors, tokens, cost and latency percentiles over a range, by group and interval, from the rollups (usage.read / logs.all: the organization; logs.team: your teams; logs.own: yours)',
          security: bearerSecurity,
          querystring: AnalyticsQuery,
          response: { 200: AnalyticsSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const to = q.to ?? now();
        const from = q.from ?? to - DAY_MS;
        const result = await analytics.query(rollupScopeOf(principalOf(request), q.scope), {
          from,
          to,
          interval: q.interval,
          groupBy: q.groupBy,
          metrics: parseMetrics(q.metrics),
          top: q.top ?? 10,
          sort: q.sort ?? 'requests',
          seriesPercentiles: q.seriesPercentiles === true || q.format === 'csv',
          filters: {
            model: q.model,
            channelId: q.channelId,
            keyId: q.keyId,
            userId: q.userId,
            teamId: q.teamId,
            status: q.status,
          },
        });
        if (q.format === 'csv') {
          return reply
            .header('content-type', 'text/csv; charset=utf-8')
            .header('content-disposition', 'attachment; filename="aihub-analytics.csv"')
            .serializer((body: string) => body)
            .send(toCsv(result));
        }
        return result;
      },
    );

    const viewOwner = (principal: Principal): string => {
      const userId = userIdOf(principal);
      if (!userId) throw new ApiError('bad_request', 'Saved views belong to a user; the master key has none');
      return userId;
    };

    app.get(
      '/api/analytics/views',
      {
        config: { permission: ANALYTICS_PERMISSION },
        schema: {
          tags: ['analytics'],
          summary: 'Your saved analytics views in the current organization',
          security: bearerSecurity,
          response: { 200: SavedViewList, ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        return { data: await analytics.listViews(principal.orgId, viewOwner(principal)) };
      },
    );

    app.post(
      '/api/analytics/views',
      {
        config: { permission: ANALYTICS_PERMISSION },
        schema: {
          tags: ['analytics'],
          summary: 'Save a view (a name and the page’s query parameters)',
          security: bearerSecurity,
          body: SavedViewBody,
          response: { 201: SavedViewSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const view = await analytics.saveView(
          principal.orgId,
          viewOwner(principal),
          request.body.name,
          request.body.query,
        );
        return reply.code(201).send(view);
      },
    );

    app.delete(
      '/api/analytics/views/:id',
      {
        config: { permission: ANALYTICS_PERMISSION },
        schema: {
          tags: ['analytics'],
          summary: 'Delete one of your saved views',
          security: bearerSecurity,
          params: ViewIdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        await analytics.deleteView(principal.orgId, viewOwner(principal), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
