import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { bearerSecurity, errorResponses, requireStrings } from '../../http/schemas.js';
import type { UsersTable } from '../../infra/db/schema.js';
import type { AccessService } from '../access/service.js';
import type { UsersService } from '../users/service.js';
import { toUserResponse, type UserResponse } from '../users/service.js';
import { principalOf } from './guard.js';
import {
  LoginBody,
  LoginResponseSchema,
  LoginSecondStepBody,
  MeSchema,
  PasswordChangeBody,
  ProfilePatchBody,
  RegisterBody,
  SessionSchema,
} from './schema.js';
import type { AuthService, SessionGrant } from './service.js';

export const REFRESH_COOKIE = 'aihub_refresh';
export const COOKIE_PATH = '/api/auth';

interface SessionBody {
  user: UserResponse;
  accessToken: string;
  expiresIn: number;
}

/** Where a request came from (kept with the session and in sign-in audit rows). */
export function context(request: FastifyRequest) {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? null };
}

/** Set the refresh cookie of a new session and answer the session body (sign-in, SSO). */
export function sendSession(reply: FastifyReply, grant: SessionGrant): SessionBody {
  reply.setCookie(REFRESH_COOKIE, grant.refreshToken, {
    httpOnly: true,
    sameSite: 'strict',
    secure: 'auto',
    path: COOKIE_PATH,
    expires: new Date(grant.refreshExpiresAt),
  });
  return { user: toUserResponse(grant.user), accessToken: grant.accessToken, expiresIn: grant.expiresIn };
}

export interface AuthRoutesDeps {
  auth: AuthService;
  users: UsersService;
  access: AccessService;
  /** Called after a sign-up (the verification mail). */
  onRegistered?: (user: UsersTable, request: FastifyRequest) => Promise<void>;
}

/** /api/auth/* (sign-up, sign-in, refresh, sign-out) and /api/me. */
export function authRoutes({ auth, users, access, onRegistered }: AuthRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/auth/register',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Create an account (when registration is open) and sign in',
          body: RegisterBody,
          response: { 201: SessionSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const grant = await auth.register(request.body, context(request));
        await onRegistered?.(grant.user, request);
        reply.code(201);
        return sendSession(reply, grant);
      },
    );

    app.post(
      '/api/auth/login',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Sign in with email and password',
          description:
            'For an account with two-factor authentication the answer is `{ twoFactorRequired: true, challenge }` ' +
            'and no session: finish with POST /api/auth/login/2fa.',
          body: LoginBody,
          response: { 200: LoginResponseSchema, ...errorResponses },
        },
        preValidation: requireStrings('email', 'password'),
      },
      async (request, reply) => {
        const result = await auth.login(request.body.email, request.body.password, context(request));
        return 'twoFactorRequired' in result ? result : sendSession(reply, result);
      },
    );

    app.post(
      '/api/auth/login/2fa',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Second step of a sign-in with 2FA: the challenge and a code (or a recovery code)',
          body: LoginSecondStepBody,
          response: { 200: SessionSchema, ...errorResponses },
        },
        preValidation: requireStrings('challenge', 'code', 'recoveryCode'),
      },
      async (request, reply) => {
        const { challenge, code, recoveryCode } = request.body;
        if ((code === undefined) === (recoveryCode === undefined))
          throw new ApiError('validation_failed', 'Send either code or recoveryCode', { param: 'code' });
        const factor = code !== undefined ? { code } : { recoveryCode: recoveryCode as string };
        return sendSession(reply, await auth.loginSecondFactor(challenge, factor, context(request)));
      },
    );

    app.post(
      '/api/auth/refresh',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Exchange the refresh cookie for a new access token (the cookie rotates)',
          response: { 200: SessionSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const token = request.cookies[REFRESH_COOKIE];
        if (!token) throw new ApiError('unauthorized', 'No session cookie; sign in again');
        try {
          return sendSession(reply, await auth.refresh(token, context(request)));
        } catch (error) {
          reply.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
          throw error;
        }
      },
    );

    app.post(
      '/api/auth/logout',
      {
        config: { permission: 'public' },
        schema: { tags: ['auth'], summary: 'End this sign-in', response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await auth.logout(request.cookies[REFRESH_COOKIE], context(request));
        reply.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/me',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: ['me'],
          summary: 'The signed-in user',
          security: bearerSecurity,
          response: {
            200: MeSchema,
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const summary = await access.describe(principal);
        if (principal.kind === 'master_key') return { kind: 'master_key' as const, role: 'admin' as const, ...summary };
        return { ...toUserResponse(await users.get(principal.userId)), ...summary };
      },
    );

    app.patch(
      '/api/me',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: ['me'],
          summary: 'Change your display name',
          security: bearerSecurity,
          body: ProfilePatchBody,
          response: { 200: Type.Ref('User'), ...errorResponses },
        },
      },
      async (request) => {
        return toUserResponse(await auth.updateProfile(principalOf(request), request.body.name));
      },
    );

    app.post(
      '/api/me/password',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: ['me'],
          summary: 'Change your password; other sessions are signed out',
          security: bearerSecurity,
          body: PasswordChangeBody,
          response: { 200: SessionSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const grant = await auth.changePassword(
          principalOf(request),
          request.body.currentPassword,
          request.body.newPassword,
          context(request),
        );
        return sendSession(reply, grant);
      },
    );
  };
}
