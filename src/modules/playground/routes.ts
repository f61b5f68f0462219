import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { type Caller, ChatBody, type Gateway } from '../../gateway/index.js';
import { bearerSecurity } from '../../http/schemas.js';
import type { Guards } from '../auth/guard.js';
import { principalOf } from '../auth/guard.js';

/** Model capabilities that make a model useless in a chat window. */
const NOT_CHAT = new Set(['embeddings', 'embedding']);

/**
 * The console's playground: chat as the signed-in user, without an API key. The user's own limits and
 * budget apply; the requests are logged under the user with no key.
 */
export function playgroundRoutes(gateway: Gateway, guards: Guards): FastifyPluginAsync {
  const callerOf = (request: FastifyRequest): Caller => {
    const principal = principalOf(request);
    if (principal.kind !== 'user') throw new ApiError('bad_request', 'Sign in as a user to use the playground');
    return {
      keyId: null,
      userId: principal.userId,
      orgId: principal.orgId,
      teamId: null,
      allowedModels: null,
      allowedIps: null,
      keyLimits: null,
    };
  };

  return async (app) => {
    app.get(
      '/api/playground/models',
      {
        onRequest: guards.user,
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
          .visibleModels(callerOf(request))
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
        onRequest: guards.user,
        schema: {
          tags: ['playground'],
          summary: 'An OpenAI chat completion (streamed or not) as the signed-in user',
          security: bearerSecurity,
          body: ChatBody,
        },
      },
      (request: FastifyRequest, reply: FastifyReply) => gateway.chatCompletionAs(callerOf(request), request, reply),
    );
  };
}
