import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { principalOf } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { TeamsService } from '../teams/service.js';
import type { UsageSummary } from '../usage/summary.js';
import type { UsersService } from '../users/service.js';
import { LimitPolicyPatchBody, LimitPolicySchema, ScopeLimitsSchema, ScopeParams } from './schema.js';
import { ScopeLimits } from './scope-limits.js';
import type { LimitsService } from './service.js';

export interface LimitRoutesDeps {
  limits: LimitsService;
  users: UsersService;
  teams: TeamsService;
  summary: UsageSummary;
  audit: AuditService;
  organizations: Pick<OrganizationsService, 'isMember'>;
}

/**
 * /api/admin/limits/{user|team|org}/{id}: budgets, token quotas and rate limits above the key level, of a member
 * of the current organization, one of its teams, or the organization itself (another's id: 404).
 */
export function limitRoutes({
  limits,
  users,
  teams,
  summary,
  audit,
  organizations,
}: LimitRoutesDeps): FastifyPluginAsyncTypebox {
  const scoped = new ScopeLimits({ limits, users, teams, summary, organizations });
  return async (app) => {
    const tags = ['admin: limits'];

    app.get(
      '/api/admin/limits/:scope/:id',
      {
        config: { permission: 'limits.read' },
        schema: {
          tags,
          summary: 'The limits of a user, team or organization, with what is used now',
          security: bearerSecurity,
          params: ScopeParams,
          response: {
            200: ScopeLimitsSchema,
            ...errorResponses,
          },
        },
      },
      async (request) => {
        return scoped.get(principalOf(request), request.params.scope, request.params.id);
      },
    );

    app.patch(
      '/api/admin/limits/:scope/:id',
      {
        config: { permission: 'limits.manage' },
        schema: {
          tags,
          summary: 'Change the limits of a user, team or organization (null removes a limit)',
          security: bearerSecurity,
          params: ScopeParams,
          body: LimitPolicyPatchBody,
          response: { 200: LimitPolicySchema, ...errorResponses },
        },
      },
      async (request) => {
        const { scope, id } = request.params;
        const principal = principalOf(request);
        const updated = await scoped.set(principal, scope, id, request.body);
        await audit.record({
          orgId: scope === 'org' ? id : principal.orgId,
          actor: actorOf(request.principal),
          action: 'limits.update',
          targetType: scope,
          targetId: id,
          ip: request.ip,
          detail: request.body,
        });
        return updated;
      },
    );
  };
}
