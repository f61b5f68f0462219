import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { routePermission } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import { Force, RuleCreateBody, RuleListSchema, RulePatchBody, RuleSchema } from './schema.js';
import type { AccessRulesService } from './service.js';

/** /api/admin/ip-rules: global allow/deny lists for /v1 and for /api + console. */
export function accessRuleRoutes({
  rules,
  audit,
}: {
  rules: AccessRulesService;
  audit: AuditService;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    routePermission(app, 'ip_rules.manage');
    const tags = ['admin: ip rules'];

    app.get(
      '/api/admin/ip-rules',
      {
        schema: {
          tags,
          summary: 'IP rules, with how many requests each refused',
          security: bearerSecurity,
          response: {
            200: RuleListSchema,
            ...errorResponses,
          },
        },
      },
      async () => rules.list(),
    );

    app.post(
      '/api/admin/ip-rules',
      {
        schema: {
          tags,
          summary: 'Add an allow or deny rule (an IP or CIDR range, v4 or v6)',
          security: bearerSecurity,
          querystring: Force,
          body: RuleCreateBody,
          response: { 201: RuleSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request.principal);
        const rule = await rules.create(request.body, { id: actor.id, ip: request.ip }, request.query.force === true);
        await audit.record({
          actor,
          action: 'ip_rule.create',
          targetType: 'ip_rule',
          targetId: rule.id,
          ip: request.ip,
          detail: { scope: rule.scope, action: rule.action, cidr: rule.cidr },
        });
        reply.code(201);
        return rule;
      },
    );

    app.patch(
      '/api/admin/ip-rules/:id',
      {
        schema: {
          tags,
          summary: 'Change a rule',
          security: bearerSecurity,
          params: IdParam,
          querystring: Force,
          body: RulePatchBody,
          response: { 200: RuleSchema, ...errorResponses },
        },
      },
      async (request) => {
        const rule = await rules.update(
          request.params.id,
          request.body,
          { ip: request.ip },
          request.query.force === true,
        );
        await audit.record({
          actor: actorOf(request.principal),
          action: 'ip_rule.update',
          targetType: 'ip_rule',
          targetId: rule.id,
          ip: request.ip,
          detail: request.body,
        });
        return rule;
      },
    );

    app.delete(
      '/api/admin/ip-rules/:id',
      {
        schema: {
          tags,
          summary: 'Delete a rule',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await rules.delete(request.params.id);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'ip_rule.delete',
          targetType: 'ip_rule',
          targetId: request.params.id,
          ip: request.ip,
        });
        return reply.code(204).send(null);
      },
    );
  };
}
