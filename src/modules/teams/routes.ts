import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import type { Guards } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import { TeamCreateBody, TeamListSchema, TeamSchema } from './schema.js';
import type { TeamsService } from './service.js';

/** /api/admin/teams: teams keys can bill to (limits: /api/admin/limits/team/{id}). */
export function teamRoutes({
  teams,
  audit,
  guards,
}: {
  teams: TeamsService;
  audit: AuditService;
  guards: Guards;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onRequest', guards.admin);
    const tags = ['admin: teams'];
    app.get(
      '/api/admin/teams',
      {
        schema: {
          tags,
          summary: 'List teams',
          security: bearerSecurity,
          response: { 200: TeamListSchema, ...errorResponses },
        },
      },
      async () => ({
        data: await teams.list(),
      }),
    );
    app.post(
      '/api/admin/teams',
      {
        schema: {
          tags,
          summary: 'Create a team',
          security: bearerSecurity,
          body: TeamCreateBody,
          response: { 201: TeamSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const team = await teams.create(request.body.name);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'team.create',
          targetType: 'team',
          targetId: team.id,
          ip: request.ip,
          detail: { name: team.name },
        });
        reply.code(201);
        return team;
      },
    );
    app.delete(
      '/api/admin/teams/:id',
      {
        schema: {
          tags,
          summary: 'Delete a team (its keys stay, without a team)',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await teams.delete(request.params.id);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'team.delete',
          targetType: 'team',
          targetId: request.params.id,
          ip: request.ip,
        });
        return reply.code(204).send(null);
      },
    );
  };
}
