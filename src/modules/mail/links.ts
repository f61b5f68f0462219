import type { FastifyRequest } from 'fastify';

/**
 * The origin links in mail point at: AIHUB_PUBLIC_URL when set, else the origin the request came to (its
 * protocol and Host; X-Forwarded-* with AIHUB_TRUST_PROXY).
 */
export function linkOrigin(publicUrl: string | undefined, request: FastifyRequest): string {
  return publicUrl ?? `${request.protocol}://${request.host}`;
}
