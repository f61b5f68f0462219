import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { type Caller, ChatBody, type Gateway } from '../../gateway/index.js';
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
  };
}
