import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerSecurity, errorResponses, IdParam, Page } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { principalOf } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import { UserCreateBody, UserPatchBody, UsersQuery } from './schema.js';
import { toUserResponse, type UsersService } from './service.js';

export interface UserRoutesDeps {
  users: UsersService;
  audit: AuditService;
}

/** /api/admin/users: admin user management. */
export function userAdminRoutes({ users, audit }: UserRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/admin/users',
      {
        config: { permission: 'members.read' },
        schema: {
          tags: ['admin: users'],
          summary: 'List users',
          security: bearerSecurity,
          querystring: UsersQuery,
          response: { 200: Page(Type.Ref('User')), ...errorResponses },
        },
      },
      async (request) => {
        const { rows, total } = await users.list({
          ...request.query,
          limit: request.query.limit ?? 50,
          offset: request.query.offset ?? 0,
        });
        return { data: rows.map(toUserResponse), total };
      },
    );

    app.post(
      '/api/admin/users',
      {
        config: { permission: 'members.manage' },
        schema: {
          tags: ['admin: users'],
          summary: 'Create a user',
          security: bearerSecurity,
          body: UserCreateBody,
          response: { 201: Type.Ref('User'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const user = await users.create(request.body);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'user.create',
          targetType: 'user',
          targetId: user.id,
          ip: request.ip,
          detail: { email: user.email, role: user.role },
        });
        reply.code(201);
        return toUserResponse(user);
      },
    );

    app.get(
      '/api/admin/users/:id',
      {
        config: { permission: 'members.read' },
        schema: {
          tags: ['admin: users'],
          summary: 'Get a user',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: Type.Ref('User'), ...errorResponses },
        },
      },
      async (request) => toUserResponse(await users.get(request.params.id)),
    );

    app.patch(
      '/api/admin/users/:id',
      {
        config: { permission: 'members.manage' },
        schema: {
          tags: ['admin: users'],
          summary: 'Change a user: name, role, status (disable blocks sessions and keys at once) or password',
          security: bearerSecurity,
          params: IdParam,
          body: UserPatchBody,
          response: { 200: Type.Ref('User'), ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const actingUserId = principal.kind === 'user' ? principal.userId : undefined;
        const updated = await users.update(request.params.id, request.body, actingUserId);
        const { password, ...visible } = request.body;
        await audit.record({
          actor: actorOf(principal),
          action: 'user.update',
          targetType: 'user',
          targetId: updated.id,
          ip: request.ip,
          detail: { ...visible, ...(password !== undefined ? { passwordReset: true } : {}) },
        });
        return toUserResponse(updated);
      },
    );
  };
}
