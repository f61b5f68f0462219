import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerToken } from '../../http/bearer.js';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import { principalOf } from '../auth/guard.js';
import { context, sendSession } from '../auth/routes.js';
import type { AuthService } from '../auth/service.js';
import { linkOrigin } from '../mail/links.js';
import { toUserResponse } from '../users/service.js';
import {
  AcceptBody,
  AcceptedSchema,
  InvitationCreateBody,
  InvitationIdParam,
  InvitationPreviewSchema,
  TokenParam,
} from './schema.js';
import type { InvitationsService } from './service.js';

export interface InvitationRoutesDeps {
  invitations: InvitationsService;
  auth: AuthService;
  publicUrl: string | undefined;
}

const withGone = { ...errorResponses, 410: Type.Ref('ErrorBody') };

/** /api/org/invitations (the current organization's admins) and /api/invitations/:token (whoever holds the link). */
export function invitationRoutes({ invitations, auth, publicUrl }: InvitationRoutesDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/org/invitations',
      {
        config: { permission: 'members.read' },
        schema: {
          tags: ['organization'],
          summary: 'Invitations of the current organization, newest first',
          security: bearerSecurity,
          response: { 200: Type.Object({ data: Type.Array(Type.Ref('Invitation')) }), ...errorResponses },
        },
      },
      async (request) => ({ data: await invitations.list(principalOf(request).orgId) }),
    );

    app.post(
      '/api/org/invitations',
      {
        config: { permission: 'members.manage' },
        schema: {
          tags: ['organization'],
          summary: 'Invite someone by email to the organization (and optionally a team) with a role',
          description: 'The answer carries `acceptUrl` only when no SMTP server is configured.',
          security: bearerSecurity,
          body: InvitationCreateBody,
          response: { 201: Type.Ref('Invitation'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const invitation = await invitations.create(
          principalOf(request),
          request.body,
          linkOrigin(publicUrl, request),
          request.ip,
        );
        reply.code(201);
        return invitation;
      },
    );

    app.post(
      '/api/org/invitations/:id/resend',
      {
        config: { permission: 'members.manage' },
        schema: {
          tags: ['organization'],
          summary: 'Send a new link (the old one stops working) with a new 7-day expiry',
          security: bearerSecurity,
          params: InvitationIdParam,
          response: { 200: Type.Ref('Invitation'), ...withGone },
        },
      },
      async (request) =>
        invitations.resend(principalOf(request), request.params.id, linkOrigin(publicUrl, request), request.ip),
    );

    app.delete(
      '/api/org/invitations/:id',
      {
        config: { permission: 'members.manage' },
        schema: {
          tags: ['organization'],
          summary: 'Revoke an invitation',
          security: bearerSecurity,
          params: InvitationIdParam,
          response: { 204: Type.Null(), ...withGone },
        },
      },
      async (request, reply) => {
        await invitations.revoke(principalOf(request), request.params.id, request.ip);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/invitations/:token',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['invitations'],
          summary: 'What an invitation link is for (organization, role, team, whether the account exists)',
          params: TokenParam,
          response: { 200: InvitationPreviewSchema, ...withGone },
        },
      },
      async (request) => invitations.preview(request.params.token),
    );

    app.post(
      '/api/invitations/:token/accept',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['invitations'],
          summary: 'Accept an invitation: signed in as the invited address, or creating the account',
          description:
            'Signed in (Authorization: Bearer) as the invited address: the memberships are added. Not signed in and no account with that address: send `{name, password}`; the account is created and signed in (the refresh cookie is set, as by /api/auth/login). An existing account must sign in first (401).',
          params: TokenParam,
          body: AcceptBody,
          response: { 200: AcceptedSchema, ...withGone },
        },
        // Signed in, there is nothing to send: no body is an empty one.
        preValidation: (request, _reply, done) => {
          request.body ??= {};
          done();
        },
      },
      async (request, reply) => {
        const bearer = bearerToken(request.headers.authorization);
        const identity = bearer === undefined ? undefined : await auth.authenticate(bearer);
        const result = await invitations.accept(request.params.token, identity, request.body ?? {}, context(request));
        const base = { organization: result.organization, role: result.role, team: result.team };
        if (!result.grant) return { ...base, user: toUserResponse(result.user) };
        return { ...base, ...sendSession(reply, result.grant) };
      },
    );
  };
}
