import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerSecurity, errorResponses, requireStrings } from '../../http/schemas.js';
import { principalOf } from '../auth/guard.js';
import { linkOrigin } from '../mail/links.js';
import { AcceptedSchema, ForgotBody, ResetBody, VerifiedSchema, VerifyBody } from './schema.js';
import type { EmailAuthService } from './service.js';

export interface EmailAuthRoutesDeps {
  emailAuth: EmailAuthService;
  publicUrl: string | undefined;
}

/** Email verification and password reset: /api/auth/email/verify, /api/auth/password/*, /api/me/email/verification. */
export function emailAuthRoutes({ emailAuth, publicUrl }: EmailAuthRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/auth/email/verify',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Confirm an email address with the token of its verification link',
          body: VerifyBody,
          response: { 200: VerifiedSchema, ...errorResponses },
        },
        preValidation: requireStrings('token'),
      },
      async (request) => {
        const user = await emailAuth.verify(request.body.token, request.ip);
        return { email: user.email, emailVerifiedAt: Number(user.email_verified_at) };
      },
    );

    app.post(
      '/api/me/email/verification',
      {
        config: { permission: 'signed_in' },
        schema: {
          tags: ['me'],
          summary: 'Email me a new verification link',
          security: bearerSecurity,
          response: { 202: AcceptedSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        await emailAuth.resendVerification(principalOf(request), linkOrigin(publicUrl, request), request.ip);
        reply.code(202);
        return { message: 'A new verification link is on its way' };
      },
    );

    app.post(
      '/api/auth/password/forgot',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Email a password-reset link (the answer is the same whether the account exists or not)',
          body: ForgotBody,
          response: { 202: AcceptedSchema, ...errorResponses },
        },
        preValidation: requireStrings('email'),
      },
      async (request, reply) => {
        await emailAuth.forgotPassword(request.body.email, linkOrigin(publicUrl, request), request.ip);
        reply.code(202);
        return {
          message: 'If an account uses this address, a reset link is on its way; it works once, for 30 minutes',
        };
      },
    );

    app.post(
      '/api/auth/password/reset',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Set a new password with a reset link; every session of the account ends',
          body: ResetBody,
          response: { 204: Type.Null(), ...errorResponses },
        },
        preValidation: requireStrings('token', 'password'),
      },
      async (request, reply) => {
        await emailAuth.resetPassword(request.body.token, request.body.password, request.ip);
        return reply.code(204).send(null);
      },
    );
  };
}
