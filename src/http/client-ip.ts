import type { FastifyRequest } from 'fastify';

/** The client's IP as Fastify resolved it (honours X-Forwarded-For only when AIHUB_TRUST_PROXY is on). */
export function clientIp(request: FastifyRequest): string {
  return request.ip;
}
