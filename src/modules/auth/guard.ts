import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { bearerToken } from '../../http/bearer.js';
import type { Permission, RoutePermission } from '../access/permissions.js';
import type { AccessService } from '../access/service.js';
import type { Principal } from './principal.js';
import type { AuthService } from './service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** What the route needs (src/modules/access/permissions.ts); every /api route declares one. */
    permission?: RoutePermission;
    /** The route also takes an AI Hub API key (`sk-…`) as its bearer and checks it itself. */
    apiKey?: boolean;
  }
}

/** The header naming the organization a session-token request is about (id or slug). */
const API_KEY_PREFIX = 'sk-';

export const ORG_HEADER = 'x-aihub-organization';

/** A rule every signed-in request passes after authentication (an organization's 2FA requirement). */
export interface PrincipalPolicy {
  /** Throw to refuse `principal` the route `url` (its pattern, e.g. `/api/keys/:id`). */
  enforce(principal: Principal, url: string): Promise<void>;
}

export interface AccessHookOptions {
  /** A rule every signed-in request passes (an organization's 2FA requirement). */
  policy?: PrincipalPolicy;
  /** Whether unverified (self-registered) accounts are held to their profile until they confirm their email. */
  emailVerificationRequired?: () => boolean;
}

/** What an account with an unconfirmed email may still reach: its profile and the sign-in routes. */
const ALLOWED_UNVERIFIED = /^\/api\/(me(\/|$)|auth\/)/;

/**
 * The one authorization check of /api: authenticate the bearer token, resolve the organization and the
 * caller's permissions there, apply `policy` (2FA required by the organization), and refuse with
 * `403 forbidden` naming the permission that is missing.
 * A route without a declared permission is refused to everyone (and fails the route-permission test).
 */
export function createAccessHook(
  auth: AuthService,
  access: AccessService,
  options: AccessHookOptions = {},
): onRequestAsyncHookHandler {
  return async (request: FastifyRequest) => {
    // Routes outside /api (the console's files, its catch-all, the docs) need nothing.
    if (!request.routeOptions.url?.startsWith('/api/')) return;
    const need = request.routeOptions.config.permission;
    if (need === 'public') return;
    if (need === undefined) throw new ApiError('forbidden', 'This route declares no permission');
    const bearer = bearerToken(request.headers.authorization);
    if (request.routeOptions.config.apiKey && bearer?.startsWith(API_KEY_PREFIX)) return;
    const identity = await auth.authenticate(bearer);
    if (
      identity.kind === 'user' &&
      identity.user.email_verified_at === null &&
      identity.user.role !== 'admin' &&
      options.emailVerificationRequired?.() &&
      !ALLOWED_UNVERIFIED.test(request.routeOptions.url ?? '')
    )
      throw new ApiError(
        'email_unverified',
        `Confirm your email address ${identity.user.email} first: open the link we sent you, or ask for a new one (POST /api/me/email/verification)`,
      );
    const hint = request.headers[ORG_HEADER];
    const principal = await access.principal(
      identity,
      typeof hint === 'string' && hint.trim() !== '' ? hint.trim() : undefined,
    );
    request.principal = principal;
    await options.policy?.enforce(principal, request.routeOptions.url);
    if (need === 'signed_in') return;
    const anyOf: readonly Permission[] = typeof need === 'string' ? [need] : need;
    if (!anyOf.some((p) => principal.permissions.has(p)))
      throw new ApiError('forbidden', `This needs the permission ${anyOf.join(' or ')}`);
  };
}

/** Every route this plugin registers needs `permission`, unless the route declares its own. */
export function routePermission(app: FastifyInstance, permission: RoutePermission): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, permission: route.config?.permission ?? permission } as typeof route.config;
  });
}

/** The authenticated principal of a guarded route. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError('unauthorized', 'Not signed in');
  return request.principal;
}
