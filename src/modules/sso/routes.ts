import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { RoutePermission } from '../access/permissions.js';
import type { AuditService } from '../audit/service.js';
import { principalOf } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import { sendSession } from '../auth/routes.js';
import { SsoFailure, type SsoFlow } from './flow.js';
import {
  SsoCallbackQuery,
  SsoConnectionCreateBody,
  SsoConnectionListSchema,
  SsoConnectionPatchBody,
  SsoProvidersQuery,
  SsoProvidersSchema,
  SsoStartQuery,
  SsoTestParams,
  SsoTestResultSchema,
  SsoTestStartSchema,
} from './schema.js';
import { type ConnectionScope, type SsoConnectionsService, toConnectionResponse } from './service.js';

/** The cookie binding a sign-in in flight to the browser that started it (login CSRF). */
export const SSO_BINDING_COOKIE = 'aihub_sso';
const FLOW_PATH = '/api/auth/sso';
export const CALLBACK_PATH = `${FLOW_PATH}/callback`;

export interface SsoRoutesDeps {
  connections: SsoConnectionsService;
  flow: SsoFlow;
  audit: AuditService;
  /** AIHUB_PUBLIC_URL, when set: the redirect URI is built on it instead of the request's origin. */
  publicUrl: string | undefined;
}

function setBinding(reply: FastifyReply, binding: string): void {
  reply.setCookie(SSO_BINDING_COOKIE, binding, {
    httpOnly: true,
    // Lax: the IdP's redirect back is a top-level navigation from another site, which must carry it.
    sameSite: 'lax',
    secure: 'auto',
    path: FLOW_PATH,
    maxAge: 600,
  });
}

/**
 * Single sign-on: the connections of the current organization (/api/org/sso, org.manage) and of the instance
 * (/api/admin/sso, settings.manage), and the public sign-in flow (/api/auth/sso/*).
 */
export function ssoRoutes({ connections, flow, audit, publicUrl }: SsoRoutesDeps): FastifyPluginAsyncTypebox {
  const redirectUri = (request: FastifyRequest) =>
    `${publicUrl ?? `${request.protocol}://${request.host}`}${CALLBACK_PATH}`;

  return async (app) => {
    const scopes: Array<{
      prefix: string;
      permission: RoutePermission;
      tag: string;
      scope: (r: FastifyRequest) => ConnectionScope;
    }> = [
      {
        prefix: '/api/org/sso',
        permission: 'org.manage',
        tag: 'organization: sso',
        scope: (r) => ({ orgId: principalOf(r).orgId }),
      },
      { prefix: '/api/admin/sso', permission: 'settings.manage', tag: 'admin: sso', scope: () => ({ orgId: null }) },
    ];
    for (const { prefix, permission, tag, scope } of scopes) {
      const tags = [tag];
      const where = prefix === '/api/org/sso' ? "the organization's" : 'instance-wide';
      const record = (request: FastifyRequest, action: string, targetId: string, detail: Record<string, unknown>) =>
        audit.record({
          orgId: scope(request).orgId,
          actor: actorOf(request.principal),
          action,
          targetType: 'sso_connection',
          targetId,
          ip: request.ip,
          detail,
        });

      app.get(
        prefix,
        {
          config: { permission },
          schema: {
            tags,
            summary: `List ${where} SSO connections (and the redirect URI to register at the IdP)`,
            security: bearerSecurity,
            response: { 200: SsoConnectionListSchema, ...errorResponses },
          },
        },
        async (request) => {
          const uri = redirectUri(request);
          const rows = await connections.list(scope(request));
          return { data: rows.map((row) => toConnectionResponse(row, uri)), redirectUri: uri };
        },
      );

      app.post(
        prefix,
        {
          config: { permission },
          schema: {
            tags,
            summary: `Create an ${where === 'instance-wide' ? 'instance-wide' : 'organization'} SSO connection (OpenID Connect)`,
            security: bearerSecurity,
            body: SsoConnectionCreateBody,
            response: { 201: Type.Ref('SsoConnection'), ...errorResponses },
          },
        },
        async (request, reply) => {
          const row = await connections.create(scope(request), request.body, principalOf(request));
          await record(request, 'sso.create', row.id, { name: row.name, issuer: row.issuer });
          reply.code(201);
          return toConnectionResponse(row, redirectUri(request));
        },
      );

      app.get(
        `${prefix}/:id`,
        {
          config: { permission },
          schema: {
            tags,
            summary: 'An SSO connection (never its client secret)',
            security: bearerSecurity,
            params: IdParam,
            response: { 200: Type.Ref('SsoConnection'), ...errorResponses },
          },
        },
        async (request) =>
          toConnectionResponse(await connections.get(scope(request), request.params.id), redirectUri(request)),
      );

      app.patch(
        `${prefix}/:id`,
        {
          config: { permission },
          schema: {
            tags,
            summary: 'Change an SSO connection (clientSecret: a new one, or null to remove it)',
            security: bearerSecurity,
            params: IdParam,
            body: SsoConnectionPatchBody,
            response: { 200: Type.Ref('SsoConnection'), ...errorResponses },
          },
        },
        async (request) => {
          const row = await connections.update(scope(request), request.params.id, request.body, principalOf(request));
          const changed = Object.keys(request.body).filter((k) => k !== 'clientSecret');
          if (request.body.clientSecret !== undefined) changed.push('clientSecret');
          await record(request, 'sso.update', row.id, { name: row.name, changed });
          return toConnectionResponse(row, redirectUri(request));
        },
      );

      app.delete(
        `${prefix}/:id`,
        {
          config: { permission },
          schema: {
            tags,
            summary: 'Delete an SSO connection (its identity links go; the accounts stay)',
            security: bearerSecurity,
            params: IdParam,
            response: { 204: Type.Null(), ...errorResponses },
          },
        },
        async (request, reply) => {
          const row = await connections.delete(scope(request), request.params.id);
          await record(request, 'sso.delete', row.id, { name: row.name });
          return reply.code(204).send(null);
        },
      );

      app.get(
        `${prefix}/:id/test`,
        {
          config: { permission },
          schema: {
            tags,
            summary:
              'Start a test sign-in: open `url`; the IdP returns to the console with the claims and their mapping',
            security: bearerSecurity,
            params: IdParam,
            response: { 200: SsoTestStartSchema, ...errorResponses },
          },
        },
        async (request, reply) => {
          const principal = principalOf(request);
          const started = await flow.startTest(
            scope(request),
            request.params.id,
            principal.kind === 'user' ? principal.userId : null,
            redirectUri(request),
          );
          setBinding(reply, started.binding);
          return { url: started.url, testId: started.testId };
        },
      );

      app.get(
        `${prefix}/:id/tests/:testId`,
        {
          config: { permission },
          schema: {
            tags,
            summary: 'The result of a test sign-in: the claims received and what they map to',
            security: bearerSecurity,
            params: SsoTestParams,
            response: { 200: SsoTestResultSchema, ...errorResponses },
          },
        },
        async (request) => flow.testResult(scope(request), request.params.id, request.params.testId),
      );
    }

    // ---- the public sign-in flow

    app.get(
      `${FLOW_PATH}/providers`,
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary:
            'The SSO buttons of the login page: by email domain, by organization (slug or id), and instance-wide',
          querystring: SsoProvidersQuery,
          response: { 200: SsoProvidersSchema, ...errorResponses },
        },
      },
      async (request) => ({ data: await flow.providers(request.query) }),
    );

    app.get(
      `${FLOW_PATH}/:id/start`,
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: "Sign in with an SSO connection: redirects to the IdP (and back to the console's returnTo)",
          params: IdParam,
          querystring: SsoStartQuery,
        },
      },
      async (request, reply) => {
        try {
          const started = await flow.start(request.params.id, {
            redirectUri: redirectUri(request),
            returnTo: request.query.returnTo,
          });
          setBinding(reply, started.binding);
          return reply.redirect(started.url, 302);
        } catch (error) {
          if (error instanceof SsoFailure) return reply.redirect(`/login?sso_error=${error.code}`, 302);
          throw error;
        }
      },
    );

    app.get(
      CALLBACK_PATH,
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Where the IdP sends the browser back (register this URI at the IdP)',
          querystring: SsoCallbackQuery,
        },
      },
      async (request, reply) => {
        const binding = request.cookies[SSO_BINDING_COOKIE];
        reply.clearCookie(SSO_BINDING_COOKIE, { path: FLOW_PATH });
        try {
          const outcome = await flow.callback({
            rawQuery: request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
            state: request.query.state,
            error: request.query.error,
            errorDescription: request.query.error_description,
            binding,
            context: { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
          });
          if (outcome.kind === 'tested') {
            const page = outcome.orgId === null ? '/admin/sso' : '/org/sso';
            const query = new URLSearchParams({ connection: outcome.connectionId, test: outcome.testId });
            return reply.redirect(`${page}?${query}`, 302);
          }
          sendSession(reply, outcome.grant);
          // The console picks the session up from the refresh cookie and goes on to returnTo.
          return reply.redirect(`/login?${new URLSearchParams({ sso: 'done', next: outcome.returnTo })}`, 302);
        } catch (error) {
          if (error instanceof SsoFailure) return reply.redirect(`/login?sso_error=${error.code}`, 302);
          throw error;
        }
      },
    );
  };
}
