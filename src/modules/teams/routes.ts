import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { principalOf } from '../auth/guard.js';
import { actorOf, can } from '../auth/principal.js';
import {
  TeamCreateBody,
  TeamListSchema,
  TeamMemberAddBody,
  TeamMemberListSchema,
  TeamMemberParams,
  TeamMemberPatchBody,
  TeamMemberSchema,
  TeamPatchBody,
} from './schema.js';
import type { TeamsService } from './service.js';

/**
 * /api/org/teams: the current organization's teams and their members (limits: /api/admin/limits/team/{id}).
 * /api/admin/teams answers the same as /api/org/teams (wave-1 clients).
 */
/** A team's price multiplier is a price: the platform's admins set it, as they set the organization's. */
function guardPrice(request: FastifyRequest, body: { priceMultiplier?: number | null | undefined }): void {
  if (body.priceMultiplier !== undefined && !can(principalOf(request), 'platform.organizations'))
    throw new ApiError(
      'forbidden',
      "This needs the permission platform.organizations: a team's price multiplier is set by the platform's admins",
      { param: 'priceMultiplier' },
    );
}

export function teamRoutes({ teams, audit }: { teams: TeamsService; audit: AuditService }): FastifyPluginAsyncTypebox {
  const record = (request: FastifyRequest, action: string, targetId: string, detail?: Record<string, unknown>) =>
    audit.record({
      orgId: principalOf(request).orgId,
      actor: actorOf(request.principal),
      action,
      targetType: 'team',
      targetId,
      ip: request.ip,
      ...(detail ? { detail } : {}),
    });

  return async (app) => {
    const tags = ['organization: teams'];
    for (const prefix of ['/api/org/teams', '/api/admin/teams']) {
      const alias = prefix === '/api/admin/teams';
      const hide = alias ? { hide: true } : {};
      app.get(
        prefix,
        {
          // Members see their own teams; teams.read shows every team of the organization.
          config: { permission: 'signed_in' },
          schema: {
            ...hide,
            tags,
            summary: 'Teams of the organization (yours only, without teams.read)',
            security: bearerSecurity,
            response: { 200: TeamListSchema, ...errorResponses },
          },
        },
        async (request) => ({ data: await teams.list(principalOf(request)) }),
      );
      app.post(
        prefix,
        {
          config: { permission: 'teams.manage' },
          schema: {
            ...hide,
            tags,
            summary: 'Create a team',
            security: bearerSecurity,
            body: TeamCreateBody,
            response: { 201: Type.Ref('Team'), ...errorResponses },
          },
        },
        async (request, reply) => {
          guardPrice(request, request.body);
          const team = await teams.create(principalOf(request).orgId, request.body);
          await record(request, 'team.create', team.id, { name: team.name });
          reply.code(201);
          return team;
        },
      );
      app.delete(
        `${prefix}/:id`,
        {
          config: { permission: 'teams.manage' },
          schema: {
            ...hide,
            tags,
            summary: 'Delete a team (its keys stay, without a team)',
            security: bearerSecurity,
            params: IdParam,
            response: { 204: Type.Null(), ...errorResponses },
          },
        },
        async (request, reply) => {
          await teams.delete(principalOf(request).orgId, request.params.id);
          await record(request, 'team.delete', request.params.id);
          return reply.code(204).send(null);
        },
      );
    }

    app.get(
      '/api/org/teams/:id',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags,
          summary: 'One team (yours, or any with teams.read)',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: Type.Ref('Team'), ...errorResponses },
        },
      },
      async (request) => teams.get(principalOf(request), request.params.id),
    );

    app.patch(
      '/api/org/teams/:id',
      {
        config: { permission: 'teams.manage' },
        schema: {
          tags,
          summary: 'Change a team: name, description, allowed models, price multiplier',
          security: bearerSecurity,
          params: IdParam,
          body: TeamPatchBody,
          response: { 200: Type.Ref('Team'), ...errorResponses },
        },
      },
      async (request) => {
        guardPrice(request, request.body);
        const team = await teams.update(principalOf(request), request.params.id, request.body);
        await record(request, 'team.update', team.id, { ...request.body });
        return team;
      },
    );

    app.get(
      '/api/org/teams/:id/members',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags,
          summary: "A team's members (of your teams, or any with teams.read)",
          security: bearerSecurity,
          params: IdParam,
          response: { 200: TeamMemberListSchema, ...errorResponses },
        },
      },
      async (request) => ({ data: await teams.members(principalOf(request), request.params.id) }),
    );

    app.post(
      '/api/org/teams/:id/members',
      {
        // teams.manage, or an admin of this team (checked by the service).
        config: { permission: 'signed_in' },
        schema: {
          tags,
          summary: 'Add a member of the organization to the team (teams.manage or team admin)',
          security: bearerSecurity,
          params: IdParam,
          body: TeamMemberAddBody,
          response: { 201: TeamMemberSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const member = await teams.addMemberAs(
          principalOf(request),
          request.params.id,
          request.body.userId,
          request.body.role ?? 'member',
        );
        await record(request, 'team.member_add', request.params.id, { userId: member.userId, role: member.role });
        reply.code(201);
        return member;
      },
    );

    app.patch(
      '/api/org/teams/:id/members/:userId',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags,
          summary: "Change a member's team role (teams.manage or team admin)",
          security: bearerSecurity,
          params: TeamMemberParams,
          body: TeamMemberPatchBody,
          response: { 200: TeamMemberSchema, ...errorResponses },
        },
      },
      async (request) => {
        const member = await teams.setMemberRole(
          principalOf(request),
          request.params.id,
          request.params.userId,
          request.body.role,
        );
        await record(request, 'team.member_role', request.params.id, { userId: member.userId, role: member.role });
        return member;
      },
    );

    app.delete(
      '/api/org/teams/:id/members/:userId',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags,
          summary: 'Remove a member from the team (teams.manage or team admin)',
          security: bearerSecurity,
          params: TeamMemberParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await teams.removeMember(principalOf(request), request.params.id, request.params.userId);
        await record(request, 'team.member_remove', request.params.id, { userId: request.params.userId });
        return reply.code(204).send(null);
      },
    );
  };
}
