import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ChannelHealthSummary, Gateway } from '../../gateway/index.js';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { actorOf } from '../auth/principal.js';
import { channelOperationRoutes } from './operations-routes.js';
import {
  ChannelBody,
  ChannelListSchema,
  ChannelPatchBody,
  ChannelTestBody,
  ChannelTestResultSchema,
} from './schema.js';
import type { ChannelInput, ChannelResponse, ChannelsService } from './service.js';

export interface ChannelRoutesDeps {
  channels: ChannelsService;
  /** The data plane: live health and the channel test. */
  gateway: Gateway;
  audit: AuditService;
}

/** /api/admin/channels: upstream connections, their encrypted key pools and live health. */
export function channelRoutes({ channels, gateway, audit }: ChannelRoutesDeps): FastifyPluginAsyncTypebox {
  const withHealth = (c: ChannelResponse): ChannelResponse & { health: ChannelHealthSummary } => ({
    ...c,
    health: gateway.channelHealth(c.id),
  });
  return async (app) => {
    const tags = ['admin: channels'];
    await app.register(channelOperationRoutes({ channels, gateway, audit, withHealth }));

    app.get(
      '/api/admin/channels',
      {
        config: { permission: 'channels.read' },
        schema: {
          tags,
          summary: 'List channels',
          security: bearerSecurity,
          response: { 200: ChannelListSchema, ...errorResponses },
        },
      },
      async () => ({
        data: (await channels.list()).map(withHealth),
      }),
    );

    app.get(
      '/api/channel-groups',
      {
        config: { permission: ['channels.read', 'teams.manage', 'platform.organizations'] },
        schema: {
          tags,
          summary: 'The channel groups in use (names only), to limit an organization or a team to some of them',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(Type.String()) }), ...errorResponses },
        },
      },
      async () => ({ data: await channels.groupNames() }),
    );

    app.post(
      '/api/admin/channels',
      {
        config: { permission: 'channels.manage' },
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
        config: { permission: 'channels.read' },
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
        config: { permission: 'channels.manage' },
        schema: {
          tags,
          summary: 'Change a channel (keys, when given, replace the pool; enabled toggles it)',
          security: bearerSecurity,
          params: IdParam,
          body: ChannelPatchBody,
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
        config: { permission: 'channels.manage' },
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
        config: { permission: 'channels.manage' },
        schema: {
          tags,
          summary: 'Send a tiny request through the channel and report latency or the upstream error',
          security: bearerSecurity,
          params: IdParam,
          body: ChannelTestBody,
          response: {
            200: ChannelTestResultSchema,
            ...errorResponses,
          },
        },
      },
      async (request) => gateway.testChannel(request.params.id, request.body?.model),
    );
  };
}
