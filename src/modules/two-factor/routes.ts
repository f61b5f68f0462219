import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError, notFound } from '../../core/errors.js';
import { bearerSecurity, errorResponses, IdParam, requireStrings } from '../../http/schemas.js';
import type { UsersTable } from '../../infra/db/schema.js';
import { principalOf } from '../auth/guard.js';
import { actorOf, isAdmin } from '../auth/principal.js';
import { context } from '../auth/routes.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { UsersService } from '../users/service.js';
import { CodeBody, DisableBody, RecoveryCodesSchema, TwoFactorSetupSchema, TwoFactorStatusSchema } from './schema.js';
import type { TwoFactorService } from './service.js';

export interface TwoFactorRoutesDeps {
  twoFactor: TwoFactorService;
  users: UsersService;
  organizations: OrganizationsService;
}

/** /api/me/2fa (enrol, confirm, turn off, recovery codes) and an administrator's reset. */
export function twoFactorRoutes({ twoFactor, users, organizations }: TwoFactorRoutesDeps): FastifyPluginAsyncTypebox {
  /** The signed-in user's account (the master key has none). */
  async function me(request: FastifyRequest): Promise<UsersTable> {
    const principal = principalOf(request);
    if (principal.kind !== 'user') throw new ApiError('bad_request', 'The master key has no account to protect');
    return users.get(principal.userId);
  }
  const mine = { config: { permission: 'signed_in' as const } };
  const tags = ['me: two-factor'];

  return async (app) => {
    app.get(
      '/api/me/2fa',
      {
        ...mine,
        schema: {
          tags,
          summary: 'Your two-factor authentication: on or off, recovery codes left, required or not',
          security: bearerSecurity,
          response: { 200: TwoFactorStatusSchema, ...errorResponses },
        },
      },
      async (request) => {
        const user = await me(request);
        return twoFactor.status(user.id, principalOf(request).orgId);
      },
    );

    app.post(
      '/api/me/2fa/setup',
      {
        ...mine,
        schema: {
          tags,
          summary: 'Start enrolment: a new secret and its QR code (nothing changes until /enable confirms it)',
          security: bearerSecurity,
          response: { 200: TwoFactorSetupSchema, ...errorResponses },
        },
      },
      async (request) => twoFactor.setup(await me(request)),
    );

    app.post(
      '/api/me/2fa/enable',
      {
        ...mine,
        schema: {
          tags,
          summary: 'Confirm enrolment with a code from the app; answers the recovery codes (shown once)',
          security: bearerSecurity,
          body: CodeBody,
          response: { 200: RecoveryCodesSchema, ...errorResponses },
        },
        preValidation: requireStrings('code'),
      },
      async (request) => ({
        recoveryCodes: await twoFactor.enable(await me(request), request.body.code, context(request)),
      }),
    );

    app.post(
      '/api/me/2fa/disable',
      {
        ...mine,
        schema: {
          tags,
          summary: 'Turn two-factor authentication off (your password, and a code when given)',
          security: bearerSecurity,
          body: DisableBody,
          response: { 204: Type.Null(), ...errorResponses },
        },
        preValidation: requireStrings('password', 'code'),
      },
      async (request, reply) => {
        await twoFactor.disable(await me(request), request.body.password, request.body.code, context(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/me/2fa/recovery-codes',
      {
        ...mine,
        schema: {
          tags,
          summary: 'New recovery codes (the old ones stop working), confirmed with a code from the app',
          security: bearerSecurity,
          body: CodeBody,
          response: { 200: RecoveryCodesSchema, ...errorResponses },
        },
        preValidation: requireStrings('code'),
      },
      async (request) => ({
        recoveryCodes: await twoFactor.regenerateRecoveryCodes(await me(request), request.body.code, context(request)),
      }),
    );

    app.delete(
      '/api/admin/users/:id/2fa',
      {
        config: { permission: ['platform.users', 'members.manage'] },
        schema: {
          tags: ['admin: users'],
          summary:
            'Reset a user’s two-factor authentication (lost device); they sign in with the password and enrol again',
          description:
            'Platform admins: any user. With members.manage: members of the current organization, not owners ' +
            '(unless you are one) and not platform admins.',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const target = await users.get(request.params.id);
        if (principal.kind === 'user' && principal.userId === target.id)
          throw new ApiError('conflict', 'Turn your own two-factor authentication off with POST /api/me/2fa/disable');
        if (!isAdmin(principal)) {
          // An organization admin reaches the members of the organization, and no one above them.
          if (!(await organizations.isMember(principal.orgId, target.id))) throw notFound('User');
          if (target.role === 'admin')
            throw new ApiError(
              'forbidden',
              'Only a platform admin can reset a platform admin’s two-factor authentication',
            );
          const member = await organizations.getMember(principal.orgId, target.id);
          if (member.role === 'owner' && (principal.kind !== 'user' || principal.orgRole !== 'owner'))
            throw new ApiError('forbidden', 'Only an owner can reset an owner’s two-factor authentication');
        }
        await twoFactor.reset(target, actorOf(principal), context(request));
        return reply.code(204).send(null);
      },
    );
  };
}
