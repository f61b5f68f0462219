import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { bearerSecurity, errorResponses, IdParam, Page } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { principalOf } from '../auth/guard.js';
import { actorOf, can } from '../auth/principal.js';
import {
  MemberAddBody,
  MemberPatchBody,
  MembersQuery,
  OrganizationAdminPatchBody,
  OrganizationCreateBody,
  OrganizationListSchema,
  OrganizationPatchBody,
  PermissionListSchema,
  PLAN_FIELDS,
  RoleCreateBody,
  RoleKeyParam,
  RolePatchBody,
  UserIdParam,
} from './schema.js';
import { type OrganizationsService, PERMISSION_CATALOG } from './service.js';

export interface OrganizationRoutesDeps {
  organizations: OrganizationsService;
  audit: AuditService;
  /** Whether a user has two-factor authentication on (requiring it without it would lock them out). */
  twoFactorEnabled: (userId: string) => Promise<boolean>;
}

/**
 * Organizations (/api/organizations, /api/admin/organizations), the current organization (/api/org), its
 * members (/api/org/members) and roles (/api/org/roles), and the permission catalog (/api/permissions).
 */
export function organizationRoutes({
  organizations,
  audit,
  twoFactorEnabled,
}: OrganizationRoutesDeps): FastifyPluginAsyncTypebox {
  const record = (
    request: FastifyRequest,
    orgId: string | null,
    action: string,
    targetType: string,
    targetId: string,
    detail?: Record<string, unknown>,
  ) =>
    audit.record({
      orgId,
      actor: actorOf(request.principal),
      action,
      targetType,
      targetId,
      ip: request.ip,
      ...(detail ? { detail } : {}),
    });

  return async (app) => {
    const orgTags = ['organizations'];
    app.get(
      '/api/permissions',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: orgTags,
          summary: 'Every permission a role can hold (organization) or platform admins hold (platform)',
          security: bearerSecurity,
          response: { 200: PermissionListSchema, ...errorResponses },
        },
      },
      async () => ({ data: PERMISSION_CATALOG }),
    );

    app.get(
      '/api/organizations',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: orgTags,
          summary: 'Your organizations (platform admins: every organization)',
          security: bearerSecurity,
          response: { 200: OrganizationListSchema, ...errorResponses },
        },
      },
      async (request) => ({ data: await organizations.listFor(principalOf(request)) }),
    );

    app.post(
      '/api/organizations',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: orgTags,
          summary:
            'Create an organization (platform admins; anyone when self-serve organizations are allowed); you become its owner',
          security: bearerSecurity,
          body: OrganizationCreateBody,
          response: { 201: Type.Ref('Organization'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const org = await organizations.create(request.body, principalOf(request));
        await record(request, org.id, 'organization.create', 'organization', org.id, {
          name: org.name,
          slug: org.slug,
        });
        reply.code(201);
        return org;
      },
    );

    app.patch(
      '/api/admin/organizations/:id',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: ['admin: organizations'],
          summary:
            'Rename, re-slug, disable or enable an organization, or change its plan (model access, price multiplier, channel groups)',
          security: bearerSecurity,
          params: IdParam,
          body: OrganizationAdminPatchBody,
          response: { 200: Type.Ref('Organization'), ...errorResponses },
        },
      },
      async (request) => {
        const org = await organizations.adminUpdate(request.params.id, request.body);
        await record(request, org.id, 'organization.update', 'organization', org.id, { ...request.body });
        return org;
      },
    );

    app.delete(
      '/api/admin/organizations/:id',
      {
        config: { permission: 'platform.organizations' },
        schema: {
          tags: ['admin: organizations'],
          summary: 'Delete an empty organization (no keys, teams or other members); disable it otherwise',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await organizations.delete(request.params.id, principalOf(request));
        await record(request, null, 'organization.delete', 'organization', request.params.id);
        return reply.code(204).send(null);
      },
    );

    const currentTags = ['organization'];
    app.get(
      '/api/org',
      {
        config: { permission: 'org.read' },
        schema: {
          tags: currentTags,
          summary: 'The current organization (x-aihub-organization, or your home organization)',
          security: bearerSecurity,
          response: { 200: Type.Ref('Organization'), ...errorResponses },
        },
      },
      async (request) => organizations.get(principalOf(request).orgId),
    );

    app.patch(
      '/api/org',
      {
        config: { permission: 'org.manage' },
        schema: {
          tags: currentTags,
          summary:
            'Change the current organization: name, 2FA requirement; platform admins also its plan (allowed models, price multiplier, channel groups)',
          security: bearerSecurity,
          body: OrganizationPatchBody,
          response: { 200: Type.Ref('Organization'), ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const orgId = principal.orgId;
        const plan = PLAN_FIELDS.filter((field) => Object.hasOwn(request.body, field));
        if (plan.length > 0 && !can(principal, 'platform.organizations'))
          throw new ApiError(
            'forbidden',
            `This needs the permission platform.organizations: ${plan.join(', ')} are the organization's plan, set by the platform's admins`,
            { param: plan[0] },
          );
        if (
          request.body.require2fa === true &&
          principal.kind === 'user' &&
          !(await twoFactorEnabled(principal.userId))
        )
          throw new ApiError(
            'conflict',
            'Turn on two-factor authentication for your own account first (Security page): requiring it now would lock you out',
            { param: 'require2fa' },
          );
        const org = await organizations.update(orgId, request.body);
        await record(request, orgId, 'organization.update', 'organization', orgId, { ...request.body });
        return org;
      },
    );

    const memberTags = ['organization: members'];
    app.get(
      '/api/org/members',
      {
        config: { permission: 'members.read' },
        schema: {
          tags: memberTags,
          summary: 'Members of the current organization, with their role and teams',
          security: bearerSecurity,
          querystring: MembersQuery,
          response: { 200: Page(Type.Ref('Member')), ...errorResponses },
        },
      },
      async (request) =>
        organizations.listMembers(principalOf(request).orgId, {
          search: request.query.search,
          role: request.query.role,
          limit: request.query.limit ?? 50,
          offset: request.query.offset ?? 0,
        }),
    );

    app.post(
      '/api/org/members',
      {
        config: { permission: 'members.manage' },
        schema: {
          tags: memberTags,
          summary: 'Add an existing account as a member with a role (invite people who have none)',
          security: bearerSecurity,
          body: MemberAddBody,
          response: { 201: Type.Ref('Member'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const member = await organizations.addMemberByEmail(
          principal.orgId,
          request.body.email,
          request.body.role,
          principal,
        );
        await record(request, principal.orgId, 'member.add', 'user', member.userId, { role: member.role });
        reply.code(201);
        return member;
      },
    );

    app.get(
      '/api/org/members/:userId',
      {
        config: { permission: 'members.read' },
        schema: {
          tags: memberTags,
          summary: 'One member',
          security: bearerSecurity,
          params: UserIdParam,
          response: { 200: Type.Ref('Member'), ...errorResponses },
        },
      },
      async (request) => organizations.getMember(principalOf(request).orgId, request.params.userId),
    );

    app.patch(
      '/api/org/members/:userId',
      {
        config: { permission: 'members.manage' },
        schema: {
          tags: memberTags,
          summary: "Change a member's role (only owners make owners; nobody grants more than they hold)",
          security: bearerSecurity,
          params: UserIdParam,
          body: MemberPatchBody,
          response: { 200: Type.Ref('Member'), ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const member = await organizations.changeRole(
          principal.orgId,
          request.params.userId,
          request.body.role,
          principal,
        );
        await record(request, principal.orgId, 'member.role_change', 'user', member.userId, { role: member.role });
        return member;
      },
    );

    app.delete(
      '/api/org/members/:userId',
      {
        config: { permission: 'members.manage' },
        schema: {
          tags: memberTags,
          summary: 'Remove a member: their teams go and their own keys here are revoked; team-owned keys stay',
          security: bearerSecurity,
          params: UserIdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        await organizations.removeMember(principal.orgId, request.params.userId, principal);
        await record(request, principal.orgId, 'member.remove', 'user', request.params.userId);
        return reply.code(204).send(null);
      },
    );

    const roleTags = ['organization: roles'];
    app.get(
      '/api/org/roles',
      {
        config: { permission: 'org.read' },
        schema: {
          tags: roleTags,
          summary: "The organization's roles: built-in (possibly customized) and custom, with their permissions",
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(Type.Ref('Role')) }), ...errorResponses },
        },
      },
      async (request) => ({ data: await organizations.listRoles(principalOf(request).orgId) }),
    );

    app.post(
      '/api/org/roles',
      {
        config: { permission: 'roles.manage' },
        schema: {
          tags: roleTags,
          summary: 'Create a custom role',
          security: bearerSecurity,
          body: RoleCreateBody,
          response: { 201: Type.Ref('Role'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const orgId = principalOf(request).orgId;
        const role = await organizations.createRole(orgId, request.body);
        await record(request, orgId, 'role.create', 'role', role.key, { permissions: role.permissions });
        reply.code(201);
        return role;
      },
    );

    app.patch(
      '/api/org/roles/:key',
      {
        config: { permission: 'roles.manage' },
        schema: {
          tags: roleTags,
          summary: 'Change a role (a built-in one is customized for this organization; owner cannot change)',
          security: bearerSecurity,
          params: RoleKeyParam,
          body: RolePatchBody,
          response: { 200: Type.Ref('Role'), ...errorResponses },
        },
      },
      async (request) => {
        const orgId = principalOf(request).orgId;
        const role = await organizations.updateRole(orgId, request.params.key, request.body);
        await record(request, orgId, 'role.update', 'role', role.key, { permissions: role.permissions });
        return role;
      },
    );

    app.delete(
      '/api/org/roles/:key',
      {
        config: { permission: 'roles.manage' },
        schema: {
          tags: roleTags,
          summary: 'Delete a custom role (no member may hold it), or reset a built-in role to its default',
          security: bearerSecurity,
          params: RoleKeyParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const orgId = principalOf(request).orgId;
        await organizations.deleteRole(orgId, request.params.key);
        await record(request, orgId, 'role.delete', 'role', request.params.key);
        return reply.code(204).send(null);
      },
    );
  };
}
