import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { bearerToken } from '../../http/bearer.js';
import type { Principal } from './principal.js';
import { isAdmin } from './principal.js';
import type { AuthService } from './service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface Guards {
  /** Any signed-in user (or the master key). */
  user: onRequestAsyncHookHandler;
  /** Instance admins (or the master key). */
  admin: onRequestAsyncHookHandler;
}

/** Route guards: every /api route except sign-in uses one; every admin route uses `admin`. */
export function createGuards(auth: AuthService): Guards {
  const user = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    request.principal = await auth.authenticate(bearerToken(request.headers.authorization));
  };
  const admin = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await user(request, reply);
    if (!request.principal || !isAdmin(request.principal)) throw new ApiError('forbidden', 'This needs the admin role');
  };
  return { user, admin };
}

/** The authenticated principal of a guarded route. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError('unauthorized', 'Not signed in');
  return request.principal;
}
