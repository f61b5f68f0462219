import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasLedger } from '../gateway/index.js';

function modelOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('model' in body)) return undefined;
  return typeof body.model === 'string' ? body.model : undefined;
}

/**
 * The access line of a /v1 request that never reached a model (the model list, a bad key, an invalid
 * body). Model calls write theirs with their usage record, tokens included (gateway/pipeline/ledger.ts).
 */
export function logV1Request(request: FastifyRequest, reply: FastifyReply): void {
  if (hasLedger(request)) return;
  const { method } = request;
  const path = request.url.split('?')[0];
  const status = reply.statusCode;
  const ms = Math.round(reply.elapsedTime);
  const model = modelOf(request.body);
  request.server.log.info(
    { reqId: request.id, method, path, model, status, ms },
    `${method} ${path} ${status}${model ? ` ${model}` : ''} ${ms} ms`,
  );
}
