import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { bearerToken } from '../../http/bearer.js';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { UsersTable } from '../../infra/db/schema.js';
import type { UsersService } from '../users/service.js';
import { principalOf } from './guard.js';
import { actorOf } from './principal.js';
import { COOKIE_PATH, context, REFRESH_COOKIE, sendSession } from './routes.js';
import { SessionSchema } from './schema.js';
import type { AuthService } from './service.js';
import type { SignInSession } from './sessions.js';

const SignInSchema = Type.Object({
  id: Type.String({ description: 'The sign-in’s id (its refresh-token family)' }),
  createdAt: Type.Integer({ description: 'When you signed in (epoch ms)' }),
  lastUsedAt: Type.Integer({ description: 'The last sign-in or refresh of this session (epoch ms)' }),
  expiresAt: Type.Integer({ description: 'When it ends unless used again (epoch ms)' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'The session of this request' }),
});
const SignInList = Type.Object({ data: Type.Array(SignInSchema) });
const SessionIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const RevokeAllBody = Type.Object(
  {
    keepCurrent: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'Answer with a fresh session for this device (default); false signs it out too',
      }),
    ),
  },
  { additionalProperties: false },
);

export interface SessionRoutesDeps {
  auth: AuthService;
  users: UsersService;
}

/** /api/me/sessions (your sign-ins, sign out one or everywhere) and a platform admin's view of a user's. */
export function sessionRoutes({ auth, users }: SessionRoutesDeps): FastifyPluginAsyncTypebox {
  async function me(request: FastifyRequest): Promise<UsersTable> {
    const principal = principalOf(request);
    if (principal.kind !== 'user') throw new ApiError('bad_request', 'The master key has no sessions');
    return users.get(principal.userId);
  }
  const mark = (list: SignInSession[], current: string | undefined) =>
    list.map((s) => ({ ...s, current: s.id === current }));
  const current = (request: FastifyRequest) =>
    auth.currentSessionId(bearerToken(request.headers.authorization), request.cookies[REFRESH_COOKIE]);

  return async (app) => {
    app.get(
      '/api/me/sessions',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: ['me: sessions'],
          summary: 'Your active sign-ins (one per browser or device)',
          security: bearerSecurity,
          response: { 200: SignInList, ...errorResponses },
        },
      },
      async (request) => {
        const user = await me(request);
        return { data: mark(await auth.listSessions(user.id), await current(request)) };
      },
    );

    app.delete(
      '/api/me/sessions/:id',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: ['me: sessions'],
          summary: 'Sign out one of your sessions (its refresh token stops working)',
          security: bearerSecurity,
          params: SessionIdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const user = await me(request);
        const here = await current(request);
        await auth.revokeSession(user, request.params.id, actorOf(principalOf(request)), context(request));
        if (here === request.params.id) reply.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/me/sessions/revoke-all',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: ['me: sessions'],
          summary: 'Sign out everywhere: every session ends and every access token issued so far stops working',
          description:
            'Answers with a fresh session for this device (like a password change), or 204 and no session with ' +
            '`{ "keepCurrent": false }`.',
          security: bearerSecurity,
          body: RevokeAllBody,
          response: { 200: SessionSchema, 204: Type.Null(), ...errorResponses },
        },
        // No body at all means the defaults.
        preValidation: (request, _reply, done) => {
          request.body ??= {};
          done();
        },
      },
      async (request, reply) => {
        const user = await me(request);
        const actor = actorOf(principalOf(request));
        if (request.body.keepCurrent === false) {
          await auth.revokeAllSessions(user, actor, context(request), false);
          reply.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
          return reply.code(204).send(null);
        }
        return sendSession(reply, await auth.revokeAllSessions(user, actor, context(request), true));
      },
    );

    app.get(
      '/api/admin/users/:id/sessions',
      {
        config: { permission: 'platform.users' },
        schema: {
          tags: ['admin: users'],
          summary: 'A user’s active sign-ins',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: SignInList, ...errorResponses },
        },
      },
      async (request) => {
        const user = await users.get(request.params.id);
        return { data: mark(await auth.listSessions(user.id), undefined) };
      },
    );

    app.post(
      '/api/admin/users/:id/sessions/revoke-all',
      {
        config: { permission: 'platform.users' },
        schema: {
          tags: ['admin: users'],
          summary: 'Sign a user out everywhere (sessions and access tokens)',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const user = await users.get(request.params.id);
        await auth.revokeAllSessions(user, actorOf(principalOf(request)), context(request), false);
        return reply.code(204).send(null);
      },
    );
  };
}
