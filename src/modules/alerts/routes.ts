import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { routePermission } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import {
  AlertDestinationCreateBody,
  AlertDestinationCreated,
  AlertDestinationPatchBody,
  AlertDestinationSchema,
  AlertEventPage,
  AlertEventQuery,
  AlertRuleCreateBody,
  AlertRulePatchBody,
  AlertRuleSchema,
  TestResult,
} from './schema.js';
import type { AlertsService } from './service.js';

/** /api/admin/alerts: rules, destinations, a test delivery and the history (platform admins; audited). */
export function alertRoutes({
  alerts,
  audit,
}: {
  alerts: AlertsService;
  audit: AuditService;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    routePermission(app, 'platform.alerts');
    const tags = ['admin: alerts'];
    const record = (
      request: { principal: Parameters<typeof actorOf>[0]; ip: string },
      action: string,
      targetType: string,
      targetId: string,
      detail?: Record<string, unknown>,
    ) => audit.record({ actor: actorOf(request.principal), action, targetType, targetId, ip: request.ip, detail });

    app.get(
      '/api/admin/alerts/rules',
      {
        schema: {
          tags,
          summary: 'Alert rules, with how many subjects each fires for now',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(AlertRuleSchema) }), ...errorResponses },
        },
      },
      async () => ({ data: await alerts.listRules() }),
    );

    app.post(
      '/api/admin/alerts/rules',
      {
        schema: {
          tags,
          summary: 'Add an alert rule',
          security: bearerSecurity,
          body: AlertRuleCreateBody,
          response: { 201: AlertRuleSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const rule = await alerts.createRule(request.body, actorOf(request.principal).id);
        await record(request, 'alert_rule.create', 'alert_rule', rule.id, { name: rule.name, kind: rule.kind });
        return reply.code(201).send(rule);
      },
    );

    app.patch(
      '/api/admin/alerts/rules/:id',
      {
        schema: {
          tags,
          summary: 'Change an alert rule (disabling it, or changing what it watches, resolves it silently)',
          security: bearerSecurity,
          params: IdParam,
          body: AlertRulePatchBody,
          response: { 200: AlertRuleSchema, ...errorResponses },
        },
      },
      async (request) => {
        const rule = await alerts.updateRule(request.params.id, request.body);
        await record(request, 'alert_rule.update', 'alert_rule', rule.id, request.body);
        return rule;
      },
    );

    app.delete(
      '/api/admin/alerts/rules/:id',
      {
        schema: {
          tags,
          summary: 'Delete an alert rule (its history stays)',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await alerts.deleteRule(request.params.id);
        await record(request, 'alert_rule.delete', 'alert_rule', request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/admin/alerts/destinations',
      {
        schema: {
          tags,
          summary: 'Alert destinations (never their secrets)',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(AlertDestinationSchema) }), ...errorResponses },
        },
      },
      async () => ({ data: await alerts.listDestinations() }),
    );

    app.post(
      '/api/admin/alerts/destinations',
      {
        schema: {
          tags,
          summary: 'Add a destination: a signed webhook, a Slack-compatible webhook, or email addresses',
          security: bearerSecurity,
          body: AlertDestinationCreateBody,
          response: { 201: AlertDestinationCreated, ...errorResponses },
        },
      },
      async (request, reply) => {
        const destination = await alerts.createDestination(request.body);
        await record(request, 'alert_destination.create', 'alert_destination', destination.id, {
          name: destination.name,
          kind: destination.kind,
        });
        return reply.code(201).send(destination);
      },
    );

    app.patch(
      '/api/admin/alerts/destinations/:id',
      {
        schema: {
          tags,
          summary: 'Change a destination (a new secret or URL replaces the stored one)',
          security: bearerSecurity,
          params: IdParam,
          body: AlertDestinationPatchBody,
          response: { 200: AlertDestinationSchema, ...errorResponses },
        },
      },
      async (request) => {
        const destination = await alerts.updateDestination(request.params.id, request.body);
        await record(request, 'alert_destination.update', 'alert_destination', destination.id, {
          fields: Object.keys(request.body),
        });
        return destination;
      },
    );

    app.delete(
      '/api/admin/alerts/destinations/:id',
      {
        schema: {
          tags,
          summary: 'Delete a destination (409 while a rule sends to it)',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await alerts.deleteDestination(request.params.id);
        await record(request, 'alert_destination.delete', 'alert_destination', request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/admin/alerts/destinations/:id/test',
      {
        schema: {
          tags,
          summary: 'Send a test alert to the destination now, and say whether it arrived',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: TestResult, ...errorResponses },
        },
      },
      async (request) => {
        const result = await alerts.sendTest(request.params.id);
        await record(request, 'alert_destination.test', 'alert_destination', request.params.id, result);
        return result;
      },
    );

    app.get(
      '/api/admin/alerts/events',
      {
        schema: {
          tags,
          summary: 'The alert history, newest first (filter by rule and state)',
          security: bearerSecurity,
          querystring: AlertEventQuery,
          response: { 200: AlertEventPage, ...errorResponses },
        },
      },
      async (request) =>
        alerts.listEvents({
          ruleId: request.query.ruleId,
          state: request.query.state,
          limit: request.query.limit ?? 50,
          offset: request.query.offset ?? 0,
        }),
    );
  };
}
