import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { type Caller, ChatBody, type Endpoint, type Gateway, imageGenerations } from '../../gateway/index.js';
import { bearerSecurity } from '../../http/schemas.js';
import { principalOf } from '../auth/guard.js';
import type { OrganizationsService } from '../organizations/service.js';

/** Model capabilities that make a model useless in a chat window. */
const NOT_CHAT = new Set(['embeddings', 'embedding']);

/**
 * The console's playground: chat as the signed-in user, without an API key. The user's own limits and
 * budget apply; the requests are logged under the user with no key.
 */
export function playgroundRoutes(
  gateway: Gateway,
  organizations: Pick<OrganizationsService, 'access'>,
  /** The Responses API endpoint (stateless here: the playground sends the whole conversation). */
  responses?: Endpoint<unknown, unknown>,
): FastifyPluginAsync {
  const callerOf = async (request: FastifyRequest): Promise<Caller> => {
    const principal = principalOf(request);
    if (principal.kind !== 'user') throw new ApiError('bad_request', 'Sign in as a user to use the playground');
    const access = await organizations.access(principal.orgId);
    return {
      keyId: null,
      userId: principal.userId,
      orgId: principal.orgId,
      teamId: null,
      allowedModels: null,
      modelLimits: access.models,
      channelLimits: access.channelGroups,
      allowedIps: null,
      keyLimits: null,
      responseCache: false,
    };
  };

  return async (app) => {
    app.get(
      '/api/playground/models',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: ['playground'],
          summary: 'Chat models you can use in the playground',
          security: bearerSecurity,
          response: {
            200: {
              type: 'object',
              required: ['data'],
              properties: {
                data: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['id', 'capabilities', 'contextWindow', 'maxOutputTokens'],
                    properties: {
                      id: { type: 'string' },
                      capabilities: { type: 'array', items: { type: 'string' } },
                      contextWindow: { type: 'integer', nullable: true },
                      maxOutputTokens: { type: 'integer', nullable: true },
                    },
                  },
                },
              },
            },
          },
        },
      },
      async (request) => ({
        data: gateway
          .visibleModels(await callerOf(request))
          .filter((m) => !m.capabilities.some((c) => NOT_CHAT.has(c)) && !/embed/i.test(m.name))
          .map((m) => ({
            id: m.name,
            capabilities: m.capabilities,
            contextWindow: m.contextWindow,
            maxOutputTokens: m.maxOutputTokens,
          })),
      }),
    );

    app.post(
      '/api/playground/chat/completions',
      {
        config: { permission: ['keys.own', 'keys.team', 'keys.all'] },
        schema: {
          tags: ['playground'],
          summary: 'An OpenAI chat completion (streamed or not) as the signed-in user',
          security: bearerSecurity,
          body: ChatBody,
        },
      },
      async (request: FastifyRequest, reply: FastifyReply) =>
        gateway.chatCompletionAs(await callerOf(request), request, reply),
    );

    const responsesEndpoint = responses;
    if (responsesEndpoint)
      app.post(
        '/api/playground/responses',
        {
          config: { permission: ['keys.own', 'keys.team', 'keys.all'] },
          schema: {
            tags: ['playground'],
            summary: 'An OpenAI Responses API answer (streamed or not) as the signed-in user; not stored',
            security: bearerSecurity,
            body: OpenAiBody,
          },
        },
        async (request: FastifyRequest, reply: FastifyReply) => {
          const body = request.body as Record<string, unknown>;
          if (body.background === true || typeof body.previous_response_id === 'string')
            throw new ApiError(
              'bad_request',
              'The playground sends whole conversations: no background or previous_response_id',
              {
                param: body.background === true ? 'background' : 'previous_response_id',
              },
            );
          // Nothing kept server-side: the conversation lives in the browser.
          body.store = false;
          return gateway.serve(responsesEndpoint, request, reply, await callerOf(request));
        },
      );

    app.post(
      '/api/playground/images/generations',
      {
        config: { permission: ['keys.own', 'keys.team', 'keys.all'] },
        schema: {
          tags: ['playground'],
          summary: 'An OpenAI image generation as the signed-in user',
          security: bearerSecurity,
          body: OpenAiBody,
        },
      },
      async (request: FastifyRequest, reply: FastifyReply) =>
        gateway.serve(imageGenerations, request, reply, await callerOf(request)),
    );
  };
}

/** An OpenAI request body: an object with a model (the endpoint checks the rest, as on /v1). */
const OpenAiBody = {
  type: 'object',
  required: ['model'],
  properties: { model: { type: 'string', minLength: 1 } },
  additionalProperties: true,
} as const;
