import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ChannelHealthSummary, Gateway } from '../../gateway/index.js';
import { bearerSecurity, errorResponses, IdParam, OrNull } from '../../http/schemas.js';
import { PROVIDER_IDS } from '../../providers/registry.js';
import type { AuditService } from '../audit/service.js';
import type { Guards } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import type { ChannelInput, ChannelResponse, ChannelsService } from './service.js';

const Timeouts = Type.Object(
  {
    connectMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    firstByteMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    idleMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    totalMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 7_200_000 })),
  },
  { additionalProperties: false },
);

const Options = Type.Object(
  {
    headers: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 2000 }))),
    timeouts: Type.Optional(Timeouts),
    modelMapping: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 256 }))),
    provider: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 500 }))),
    limits: Type.Optional(
      Type.Object(
        { rpm: Type.Optional(Type.Integer({ minimum: 1 })), tpm: Type.Optional(Type.Integer({ minimum: 1 })) },
        {
          additionalProperties: false,
          description: 'Requests/tokens per minute the provider allows this channel; routing skips it while saturated',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

const ChannelBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    type: Type.String({
      minLength: 1,
      maxLength: 40,
      description: `One of ${PROVIDER_IDS.join(', ')} (GET /api/admin/providers describes each)`,
    }),
    baseUrl: Type.Optional(OrNull(Type.String({ maxLength: 500 }))),
    keys: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 4000 }), {
        maxItems: 100,
        description: 'Provider keys (write-only, encrypted at rest)',
      }),
    ),
    options: Type.Optional(Options),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ChannelSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: Type.String(),
    baseUrl: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    disabledReason: Type.Union([Type.String(), Type.Null()]),
    options: Options,
    priority: Type.Integer(),
    weight: Type.Integer(),
    keys: Type.Array(Type.Object({ id: Type.String(), hint: Type.String(), status: Type.String() })),
    createdAt: Type.Integer(),
    updatedAt: Type.Integer(),
    health: Type.Object(
      {
        status: Type.Union([
          Type.Literal('healthy'),
          Type.Literal('degraded'),
          Type.Literal('down'),
          Type.Literal('unknown'),
        ]),
        latencyMs: Type.Union([Type.Integer(), Type.Null()], { description: 'Moving average of time to first token' }),
        successRate: Type.Union([Type.Number(), Type.Null()], {
          description: 'Share of the last 100 requests per model that succeeded',
        }),
        inflight: Type.Integer(),
        lastError: Type.Union([Type.String(), Type.Null()]),
        lastErrorAt: Type.Union([Type.Integer(), Type.Null()]),
        lastSuccessAt: Type.Union([Type.Integer(), Type.Null()]),
        lastCheck: Type.Union([
          Type.Object({
            at: Type.Integer(),
            ok: Type.Boolean(),
            latencyMs: Type.Integer(),
            error: Type.Union([Type.String(), Type.Null()]),
          }),
          Type.Null(),
        ]),
      },
      { description: 'Live health on this instance' },
    ),
  },
  { $id: 'Channel' },
);

export interface ChannelRoutesDeps {
  channels: ChannelsService;
  /** The data plane: live health and the channel test. */
  gateway: Gateway;
  audit: AuditService;
  guards: Guards;
}

/** /api/admin/channels: upstream connections, their encrypted key pools and live health. */
export function channelRoutes({ channels, gateway, audit, guards }: ChannelRoutesDeps): FastifyPluginAsyncTypebox {
  const withHealth = (c: ChannelResponse): ChannelResponse & { health: ChannelHealthSummary } => ({
    ...c,
    health: gateway.channelHealth(c.id),
  });
  return async (app) => {
    app.addHook('onRequest', guards.admin);
    const tags = ['admin: channels'];

    app.get(
      '/api/admin/channels',
      {
        schema: {
          tags,
          summary: 'List channels',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(Type.Ref('Channel')) }), ...errorResponses },
        },
      },
      async () => ({
        data: (await channels.list()).map(withHealth),
      }),
    );

    app.post(
      '/api/admin/channels',
      {
        schema: {
          tags,
          summary: 'Add a channel',
          security: bearerSecurity,
          body: ChannelBody,
          response: { 201: Type.Ref('Channel'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const created = await channels.create(request.body as ChannelInput);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'channel.create',
          targetType: 'channel',
          targetId: created.id,
          ip: request.ip,
          detail: { name: created.name, type: created.type, keys: created.keys.length },
        });
        reply.code(201);
        return withHealth(created);
      },
    );

    app.get(
      '/api/admin/channels/:id',
      {
        schema: {
          tags,
          summary: 'One channel',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: Type.Ref('Channel'), ...errorResponses },
        },
      },
      async (request) => withHealth(await channels.get(request.params.id)),
    );

    app.patch(
      '/api/admin/channels/:id',
      {
        schema: {
          tags,
          summary: 'Change a channel (keys, when given, replace the pool; enabled toggles it)',
          security: bearerSecurity,
          params: IdParam,
          body: Type.Partial(ChannelBody, { additionalProperties: false, minProperties: 1 }),
          response: { 200: Type.Ref('Channel'), ...errorResponses },
        },
      },
      async (request) => {
        const updated = await channels.update(request.params.id, request.body);
        // An admin edit starts the channel's health afresh (new key, URL or re-enable).
        gateway.resetChannelHealth(updated.id);
        const { keys, ...rest } = request.body;
        await audit.record({
          actor: actorOf(request.principal),
          action: 'channel.update',
          targetType: 'channel',
          targetId: updated.id,
          ip: request.ip,
          detail: { changes: Object.keys(rest), ...(keys ? { keysReplaced: keys.length } : {}) },
        });
        return withHealth(updated);
      },
    );

    app.delete(
      '/api/admin/channels/:id',
      {
        schema: {
          tags,
          summary: 'Delete a channel and its routes',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await channels.delete(request.params.id);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'channel.delete',
          targetType: 'channel',
          targetId: request.params.id,
          ip: request.ip,
        });
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/admin/channels/:id/test',
      {
        schema: {
          tags,
          summary: 'Send a tiny request through the channel and report latency or the upstream error',
          security: bearerSecurity,
          params: IdParam,
          body: Type.Optional(
            Type.Object({ model: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false }),
          ),
          response: {
            200: Type.Object({
              ok: Type.Boolean(),
              latencyMs: Type.Integer(),
              model: Type.String(),
              status: Type.Union([Type.Integer(), Type.Null()]),
              error: Type.Union([Type.String(), Type.Null()]),
              reply: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => gateway.testChannel(request.params.id, request.body?.model),
    );
  };
}
