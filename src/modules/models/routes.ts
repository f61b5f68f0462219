import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { STRATEGIES } from '../../gateway/index.js';
import { bearerSecurity, errorResponses, IdParam, OrNull } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import type { Guards } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import { DEFAULT_PRICES } from './default-prices.js';
import type { ModelsService } from './service.js';

const Micros = (description: string) => Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description });

const Strategy = Type.Union(
  STRATEGIES.map((s) => Type.Literal(s)),
  {
    description:
      'weighted (default): random by weight; round_robin; lowest_latency: lowest moving-average time to first token; least_inflight',
  },
);

const RouteBody = Type.Object(
  {
    channelId: Type.String({ maxLength: 64 }),
    upstreamModel: Type.Optional(OrNull(Type.String({ minLength: 1, maxLength: 256 }))),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

const ModelBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, description: 'The public name clients send as `model`' }),
    description: Type.Optional(OrNull(Type.String({ maxLength: 1000 }))),
    enabled: Type.Optional(Type.Boolean()),
    inputPrice: Type.Optional(Micros('micro-USD per 1M input tokens')),
    outputPrice: Type.Optional(Micros('micro-USD per 1M output tokens')),
    cachedInputPrice: Type.Optional(OrNull(Micros('micro-USD per 1M cached input tokens'))),
    contextWindow: Type.Optional(OrNull(Type.Integer({ minimum: 1 }))),
    maxOutputTokens: Type.Optional(OrNull(Type.Integer({ minimum: 1 }))),
    capabilities: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 20 })),
    routes: Type.Optional(Type.Array(RouteBody, { maxItems: 100 })),
    strategy: Type.Optional(OrNull(Strategy)),
    fallbacks: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
        maxItems: 10,
        description: 'Models to try, in order, when every route of this one failed',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ModelSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    inputPrice: Type.Integer(),
    outputPrice: Type.Integer(),
    cachedInputPrice: Type.Union([Type.Integer(), Type.Null()]),
    contextWindow: Type.Union([Type.Integer(), Type.Null()]),
    maxOutputTokens: Type.Union([Type.Integer(), Type.Null()]),
    capabilities: Type.Array(Type.String()),
    strategy: Type.Union([Type.String(), Type.Null()]),
    fallbacks: Type.Array(Type.String()),
    routes: Type.Array(
      Type.Object({
        id: Type.String(),
        channelId: Type.String(),
        upstreamModel: Type.Union([Type.String(), Type.Null()]),
        priority: Type.Integer(),
        weight: Type.Integer(),
      }),
    ),
    createdAt: Type.Integer(),
    updatedAt: Type.Integer(),
  },
  { $id: 'Model' },
);

/** /api/admin/models: public model names, prices and routes to channels. */
export function modelRoutes({
  models,
  audit,
  guards,
}: {
  models: ModelsService;
  audit: AuditService;
  guards: Guards;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('onRequest', guards.admin);
    const tags = ['admin: models'];

    app.get(
      '/api/admin/models',
      {
        schema: {
          tags,
          summary: 'List models',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(Type.Ref('Model')) }), ...errorResponses },
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
            200: Type.Object({
              data: Type.Array(
                Type.Object({
                  name: Type.String(),
                  inputPrice: Type.Integer(),
                  outputPrice: Type.Integer(),
                  cachedInputPrice: Type.Union([Type.Integer(), Type.Null()]),
                  contextWindow: Type.Union([Type.Integer(), Type.Null()]),
                  capabilities: Type.Array(Type.String()),
                }),
              ),
            }),
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
          body: Type.Partial(ModelBody, { additionalProperties: false, minProperties: 1 }),
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
