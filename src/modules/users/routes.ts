import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerSecurity, errorResponses, IdParam, Page } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { principalOf } from '../auth/guard.js';
import { actorOf, can, type Principal } from '../auth/principal.js';
import type { OrganizationsService } from '../organizations/service.js';
import { UserCreateBody, UserPatchBody, UsersQuery } from './schema.js';
import { toUserResponse, type UsersService } from './service.js';

export interface UserRoutesDeps {
  users: UsersService;
  audit: AuditService;
  organizations: Pick<OrganizationsService, 'assertRoleExists'>;
}

/** Without platform.users a caller sees the members of the current organization only. */
function memberScope(principal: Principal): string | undefined {
  return can(principal, 'platform.users') ? undefined : principal.orgId;
}

/**
 * /api/admin/users: accounts. Reading needs members.read (the current organization's members) or
 * platform.users (every account); creating and changing accounts is for platform admins (platform.users) —
 * organization admins manage membership through /api/org/members.
 */
export function userAdminRoutes({ users, audit, organizations }: UserRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/admin/users',
      {
        config: { permission: ['members.read', 'platform.users'] },
        schema: {
          tags: ['admin: users'],
          summary: 'List users: the members of the current organization (platform.users: every account)',
          security: bearerSecurity,
          querystring: UsersQuery,
          response: { 200: Page(Type.Ref('User')), ...errorResponses },
        },
      },
      async (request) => {
        const { rows, total } = await users.list({
          ...request.query,
          orgId: memberScope(principalOf(request)),
          limit: request.query.limit ?? 50,
          offset: request.query.offset ?? 0,
        });
        return { data: rows.map(toUserResponse), total };
      },
    );

    app.post(
      '/api/admin/users',
      {
        config: { permission: 'platform.users' },
        schema: {
          tags: ['admin: users'],
          summary: 'Create an account, a member of the current organization (its home) with orgRole',
          security: bearerSecurity,
          body: UserCreateBody,
          response: { 201: Type.Ref('User'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { orgId } = principalOf(request);
        const orgRole = request.body.orgRole ?? 'developer';
        await organizations.assertRoleExists(orgId, orgRole);
        const user = await users.create({ ...request.body, orgId, orgRole });
        await audit.record({
          orgId,
          actor: actorOf(request.principal),
          action: 'user.create',
          targetType: 'user',
          targetId: user.id,
          ip: request.ip,
          detail: { email: user.email, role: user.role, orgRole },
        });
        reply.code(201);
        return toUserResponse(user);
      },
    );

    app.get(
      '/api/admin/users/:id',
      {
        config: { permission: ['members.read', 'platform.users'] },
        schema: {
          tags: ['admin: users'],
          summary: 'Get a user (a member of the current organization, unless platform.users)',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: Type.Ref('User'), ...errorResponses },
        },
      },
      async (request) => {
        const orgId = memberScope(principalOf(request));
        const user =
          orgId === undefined ? await users.get(request.params.id) : await users.getInOrg(orgId, request.params.id);
        return toUserResponse(user);
      },
    );

    app.patch(
      '/api/admin/users/:id',
      {
        config: { permission: 'platform.users' },
        schema: {
          tags: ['admin: users'],
          summary:
            'Change an account: name, instance role, status (disable blocks sessions and keys at once) or password',
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
          orgId: updated.org_id,
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
