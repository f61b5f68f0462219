import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { routePermission } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import { DEFAULT_PRICES } from './default-prices.js';
import { DefaultPricesSchema, ModelBody, ModelListSchema, ModelPatchBody } from './schema.js';
import type { ModelsService } from './service.js';

/** /api/admin/models: public model names, prices and routes to channels. */
export function modelRoutes({
  models,
  audit,
}: {
  models: ModelsService;
  audit: AuditService;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    routePermission(app, 'models.manage');
    const tags = ['admin: models'];

    app.get(
      '/api/admin/models',
      {
        schema: {
          tags,
          summary: 'List models',
          security: bearerSecurity,
          response: { 200: ModelListSchema, ...errorResponses },
        },
      },
      async () => ({
        data: await models.list(),
      }),
    );

    app.get(
      '/api/admin/models/default-prices',
      {
        schema: {
          tags,
          summary: 'The built-in price list (micro-USD per 1M tokens)',
          security: bearerSecurity,
          response: {
            200: DefaultPricesSchema,
            ...errorResponses,
          },
        },
      },
      async () => ({
        data: Object.entries(DEFAULT_PRICES).map(([name, p]) => ({
          name,
          inputPrice: p.input,
          outputPrice: p.output,
          cachedInputPrice: p.cachedInput ?? null,
          unitPrices: p.units ?? null,
          contextWindow: p.contextWindow ?? null,
          capabilities: p.capabilities,
        })),
      }),
    );

    app.post(
      '/api/admin/models',
      {
        schema: {
          tags,
          summary: 'Add a model',
          security: bearerSecurity,
          body: ModelBody,
          response: { 201: Type.Ref('Model'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const created = await models.create(request.body);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'model.create',
          targetType: 'model',
          targetId: created.id,
          ip: request.ip,
          detail: { name: created.name },
        });
        reply.code(201);
        return created;
      },
    );

    app.get(
      '/api/admin/models/:id',
      {
        schema: {
          tags,
          summary: 'One model',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: Type.Ref('Model'), ...errorResponses },
        },
      },
      async (request) => models.get(request.params.id),
    );

    app.patch(
      '/api/admin/models/:id',
      {
        schema: {
          tags,
          summary: 'Change a model (routes, when given, replace its routes)',
          security: bearerSecurity,
          params: IdParam,
          body: ModelPatchBody,
          response: { 200: Type.Ref('Model'), ...errorResponses },
        },
      },
      async (request) => {
        const updated = await models.update(request.params.id, request.body);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'model.update',
          targetType: 'model',
          targetId: updated.id,
          ip: request.ip,
          detail: { changes: Object.keys(request.body) },
        });
        return updated;
      },
    );

    app.delete(
      '/api/admin/models/:id',
      {
        schema: {
          tags,
          summary: 'Delete a model',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await models.delete(request.params.id);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'model.delete',
          targetType: 'model',
          targetId: request.params.id,
          ip: request.ip,
        });
        return reply.code(204).send(null);
      },
    );
  };
}
