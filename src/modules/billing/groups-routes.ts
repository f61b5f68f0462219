import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { actorOf } from '../auth/principal.js';
import type { PricingGroupService } from './groups.js';
import { GroupAssignmentBody, PricingGroupCreateBody, PricingGroupPatchBody, PricingGroupSchema } from './schema.js';

export interface PricingGroupRoutesDeps {
  groups: PricingGroupService;
  audit: AuditService;
}

/**
 * Pricing groups (platform admins): a named multiplier with per-model overrides, and which organizations and
 * teams follow which group (/api/admin/billing/pricing-groups, /api/admin/organizations/:id/pricing-group).
 */
export function pricingGroupRoutes({ groups, audit }: PricingGroupRoutesDeps): FastifyPluginAsyncTypebox {
  const record = (
    request: FastifyRequest,
    orgId: string | null,
    action: string,
    targetType: string,
    targetId: string,
    detail: Record<string, unknown>,
  ) => audit.record({ orgId, actor: actorOf(request.principal), action, targetType, targetId, ip: request.ip, detail });

  return async (app) => {
    const tags = ['admin: billing'];
    const config = { permission: 'platform.organizations' } as const;
    app.get(
      '/api/admin/billing/pricing-groups',
      {
        config,
        schema: {
          tags,
          summary: 'Every pricing group, with how many organizations and teams follow it',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(PricingGroupSchema) }), ...errorResponses },
        },
      },
      async () => ({ data: await groups.list() }),
    );

    app.post(
      '/api/admin/billing/pricing-groups',
      {
        config,
        schema: {
          tags,
          summary: 'Create a pricing group: a multiplier and per-model overrides',
          security: bearerSecurity,
          body: PricingGroupCreateBody,
          response: { 201: PricingGroupSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const group = await groups.create(request.body);
        await record(request, null, 'billing.pricing_group.create', 'pricing_group', group.id, { ...request.body });
        reply.code(201);
        return group;
      },
    );

    app.patch(
      '/api/admin/billing/pricing-groups/:id',
      {
        config,
        schema: {
          tags,
          summary: "Change a pricing group's name, multiplier or overrides (priced from the next request on)",
          security: bearerSecurity,
          params: IdParam,
          body: PricingGroupPatchBody,
          response: { 200: PricingGroupSchema, ...errorResponses },
        },
      },
      async (request) => {
        const group = await groups.update(request.params.id, request.body);
        await record(request, null, 'billing.pricing_group.update', 'pricing_group', group.id, { ...request.body });
        return group;
      },
    );

    app.delete(
      '/api/admin/billing/pricing-groups/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Delete a pricing group no organization or team follows (409 otherwise)',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await groups.remove(request.params.id);
        await record(request, null, 'billing.pricing_group.delete', 'pricing_group', request.params.id, {});
        return reply.code(204).send(null);
      },
    );

    app.put(
      '/api/admin/organizations/:id/pricing-group',
      {
        config,
        schema: {
          tags,
          summary: 'Assign an organization to a pricing group (null: none)',
          security: bearerSecurity,
          params: IdParam,
          body: GroupAssignmentBody,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await groups.assignOrg(request.params.id, request.body.groupId);
        await record(request, null, 'billing.pricing_group.assign', 'organization', request.params.id, {
          groupId: request.body.groupId,
        });
        return reply.code(204).send(null);
      },
    );

    app.put(
      '/api/admin/organizations/:id/teams/:teamId/pricing-group',
      {
        config,
        schema: {
          tags,
          summary: "Assign a team to a pricing group (null: its organization's pricing)",
          security: bearerSecurity,
          params: Type.Object({
            id: Type.String({ minLength: 1, maxLength: 64 }),
            teamId: Type.String({ minLength: 1, maxLength: 64 }),
          }),
          body: GroupAssignmentBody,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await groups.assignTeam(request.params.id, request.params.teamId, request.body.groupId);
        await record(request, null, 'billing.pricing_group.assign', 'team', request.params.teamId, {
          groupId: request.body.groupId,
        });
        return reply.code(204).send(null);
      },
    );
  };
}
