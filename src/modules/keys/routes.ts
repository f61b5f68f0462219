import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { bearerSecurity, errorResponses, IdParam, Page } from '../../http/schemas.js';
import { principalOf } from '../auth/guard.js';
import { AdminKeysQuery, CreatedKeySchema, KeyCreateBody, KeyPatchBody, OwnKeysQuery } from './schema.js';
import { type KeysService, toKeyResponse } from './service.js';

function ctx(request: FastifyRequest) {
  return { principal: principalOf(request), ip: request.ip };
}

/** /api/keys (your keys and your teams'; keys.all acts on any of the organization) and /api/admin/keys (every key of the organization). */
export function keyRoutes({ keys }: { keys: KeysService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/keys',
      {
        config: { permission: ['keys.own', 'keys.team', 'keys.read', 'keys.all'] },
        schema: {
          tags: ['keys'],
          summary:
            'Your API keys and those of the teams whose keys you manage, in the current organization (hint only, never the secret)',
          security: bearerSecurity,
          querystring: OwnKeysQuery,
          response: { 200: Page(Type.Ref('ApiKey')), ...errorResponses },
        },
      },
      async (request) => {
        const { rows, total } = await keys.listMine(principalOf(request), {
          status: request.query.status,
          scope: request.query.scope,
          limit: request.query.limit ?? 50,
          offset: request.query.offset ?? 0,
        });
        return { data: rows.map(toKeyResponse), total };
      },
    );

    app.post(
      '/api/keys',
      {
        config: { permission: ['keys.own', 'keys.team', 'keys.all'] },
        schema: {
          tags: ['keys'],
          summary: 'Create an API key; the secret is in this answer only',
          security: bearerSecurity,
          body: KeyCreateBody,
          response: { 201: CreatedKeySchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const created = await keys.create(request.body, ctx(request));
        reply.code(201);
        return created;
      },
    );

    app.get(
      '/api/keys/:id',
      {
        config: { permission: ['keys.own', 'keys.team', 'keys.read', 'keys.all'] },
        schema: {
          tags: ['keys'],
          summary: 'One API key',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: Type.Ref('ApiKey'), ...errorResponses },
        },
      },
      async (request) => toKeyResponse(await keys.getVisible(request.params.id, principalOf(request))),
    );

    app.patch(
      '/api/keys/:id',
      {
        config: { permission: ['keys.own', 'keys.team', 'keys.all'] },
        schema: {
          tags: ['keys'],
          summary: 'Change a key: name, enabled, expiry, allowed models and IPs, budgets and rate limits',
          security: bearerSecurity,
          params: IdParam,
          body: KeyPatchBody,
          response: { 200: Type.Ref('ApiKey'), ...errorResponses },
        },
      },
      async (request) => toKeyResponse(await keys.update(request.params.id, request.body, ctx(request))),
    );

    app.delete(
      '/api/keys/:id',
      {
        config: { permission: ['keys.own', 'keys.team', 'keys.all'] },
        schema: {
          tags: ['keys'],
          summary: 'Revoke a key (it stops working at once)',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await keys.revoke(request.params.id, ctx(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/keys/:id/rotate',
      {
        config: { permission: ['keys.own', 'keys.team', 'keys.all'] },
        schema: {
          tags: ['keys'],
          summary: 'Issue a new secret for a key; the old secret stops working at once',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: CreatedKeySchema, ...errorResponses },
        },
      },
      async (request) => keys.rotate(request.params.id, ctx(request)),
    );

    app.get(
      '/api/admin/keys',
      {
        config: { permission: ['keys.read', 'keys.all'] },
        schema: {
          tags: ['admin: keys'],
          summary: 'Every key of the current organization',
          security: bearerSecurity,
          querystring: AdminKeysQuery,
          response: { 200: Page(Type.Ref('ApiKey')), ...errorResponses },
        },
      },
      async (request) => {
        const { rows, total } = await keys.list(principalOf(request), {
          ...request.query,
          limit: request.query.limit ?? 50,
          offset: request.query.offset ?? 0,
        });
        return { data: rows.map(toKeyResponse), total };
      },
    );
  };
}
