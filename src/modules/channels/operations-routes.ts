import { PassThrough } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Gateway } from '../../gateway/index.js';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { actorOf } from '../auth/principal.js';
import {
  ChannelBulkBody,
  ChannelBulkResultSchema,
  ChannelCopyBody,
  ChannelTestAllBody,
  UpstreamModelsSchema,
  UpstreamProbeBody,
} from './schema.js';
import type { BulkAction, ChannelResponse, ChannelsService } from './service.js';

export interface ChannelOperationRoutesDeps {
  channels: ChannelsService;
  gateway: Gateway;
  audit: AuditService;
  withHealth: (channel: ChannelResponse) => ChannelResponse;
}

/** Operations on many channels or on a channel's upstream account: test all, model lists, balance, bulk, copy. */
export function channelOperationRoutes({
  channels,
  gateway,
  audit,
  withHealth,
}: ChannelOperationRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['admin: channels'];

    app.get(
      '/api/admin/channel-tags',
      {
        config: { permission: 'channels.read' },
        schema: {
          tags,
          summary: 'The tags in use on channels',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(Type.String()) }), ...errorResponses },
        },
      },
      async () => ({ data: await channels.tagNames() }),
    );

    app.post(
      '/api/admin/channels/test',
      {
        config: { permission: 'channels.manage' },
        schema: {
          tags,
          summary:
            'Test many channels at once (4 at a time); streams NDJSON: one result per line as it comes, then {"done":true,…}',
          security: bearerSecurity,
          body: ChannelTestAllBody,
          response: {
            200: Type.String({
              description:
                'application/x-ndjson lines {channelId, channelName, model, kind, ok, latencyMs, status, error, reply}, last {done, total, ok, failed}',
            }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const out = new PassThrough();
        const stop = new AbortController();
        request.raw.on('close', () => stop.abort());
        let ok = 0;
        let failed = 0;
        void gateway
          .testChannels(
            request.body ?? {},
            (row) => {
              if (row.ok) ok++;
              else failed++;
              out.write(`${JSON.stringify(row)}\n`);
            },
            stop.signal,
          )
          .then((total) => out.end(`${JSON.stringify({ done: true, total, ok, failed })}\n`))
          .catch((error: unknown) => {
            request.log.error({ err: error }, 'channel test-all failed');
            out.end(`${JSON.stringify({ done: true, error: 'The test run stopped unexpectedly' })}\n`);
          });
        return reply.type('application/x-ndjson; charset=utf-8').header('cache-control', 'no-store').send(out);
      },
    );

    app.post(
      '/api/admin/channels/upstream-models',
      {
        config: { permission: 'channels.manage' },
        schema: {
          tags,
          summary: "List an upstream's models before the channel is saved (the key is used for this call only)",
          security: bearerSecurity,
          body: UpstreamProbeBody,
          response: { 200: UpstreamModelsSchema, ...errorResponses },
        },
      },
      async (request) => ({ data: await gateway.upstreamModels(request.body) }),
    );

    app.get(
      '/api/admin/channels/:id/upstream-models',
      {
        config: { permission: 'channels.manage' },
        schema: {
          tags,
          summary: "The models the channel's upstream lists (GET /models and its kin), to pre-fill its routes",
          security: bearerSecurity,
          params: IdParam,
          response: { 200: UpstreamModelsSchema, ...errorResponses },
        },
      },
      async (request) => {
        await channels.get(request.params.id);
        return { data: await gateway.upstreamModels(request.params.id) };
      },
    );

    app.post(
      '/api/admin/channels/:id/balance',
      {
        config: { permission: 'channels.manage' },
        schema: {
          tags,
          summary: "Fetch the upstream account's balance and keep it on the channel",
          security: bearerSecurity,
          params: IdParam,
          response: { 200: Type.Ref('Channel'), ...errorResponses },
        },
      },
      async (request) => {
        await channels.get(request.params.id);
        const balance = await gateway.upstreamBalance(request.params.id);
        return withHealth(await channels.saveBalance(request.params.id, balance));
      },
    );

    app.post(
      '/api/admin/channels/bulk',
      {
        config: { permission: 'channels.manage' },
        schema: {
          tags,
          summary: 'Enable, disable, delete, tag or untag several channels at once',
          security: bearerSecurity,
          body: ChannelBulkBody,
          response: { 200: ChannelBulkResultSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { action, tags: names } = request.body;
        const ids = await channels.bulk(request.body.ids, action as BulkAction, names);
        if (action === 'enable') for (const id of ids) gateway.resetChannelHealth(id);
        await audit.record({
          actor: actorOf(request.principal),
          action: `channel.bulk_${action}`,
          targetType: 'channel',
          targetId: null,
          ip: request.ip,
          detail: { ids, ...(names ? { tags: names } : {}) },
        });
        return { action, ids };
      },
    );

    app.post(
      '/api/admin/channels/:id/copy',
      {
        config: { permission: 'channels.manage' },
        schema: {
          tags,
          summary: 'A new channel with the same settings and keys ("<name> (copy)", disabled unless enabled: true)',
          security: bearerSecurity,
          params: IdParam,
          body: ChannelCopyBody,
          response: { 201: Type.Ref('Channel'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const copied = await channels.copy(request.params.id, request.body ?? {});
        await audit.record({
          actor: actorOf(request.principal),
          action: 'channel.copy',
          targetType: 'channel',
          targetId: copied.id,
          ip: request.ip,
          detail: { from: request.params.id, name: copied.name },
        });
        reply.code(201);
        return withHealth(copied);
      },
    );
  };
}
