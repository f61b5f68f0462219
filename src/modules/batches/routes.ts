/**
 * The OpenAI Batch API on /v1: POST /v1/batches, GET /v1/batches, GET /v1/batches/{id},
 * POST /v1/batches/{id}/cancel. Authenticated by a virtual key like every /v1 route.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Gateway } from '../../gateway/index.js';
import { fileOwnerOf, pageLimit } from '../files/routes.js';
import type { BatchesService, CreateBatchInput } from './service.js';

type ById = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>;

export function registerBatchRoutes(v1: FastifyInstance, deps: { gateway: Gateway; batches: BatchesService }): void {
  const { gateway, batches } = deps;
  v1.post('/v1/batches', { schema: { hide: true } }, async (request, reply) => {
    const owner = await fileOwnerOf(gateway, request);
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as CreateBatchInput;
    const batch = await batches.create(owner, body, request.ip);
    return reply.code(200).send(batch);
  });
  v1.get('/v1/batches', { schema: { hide: true } }, async (request: ById) => {
    const owner = await fileOwnerOf(gateway, request);
    return batches.list(owner, { limit: pageLimit(request.query.limit, 20, 100), after: request.query.after });
  });
  v1.get('/v1/batches/:id', { schema: { hide: true } }, async (request: ById) => {
    const owner = await fileOwnerOf(gateway, request);
    return batches.get(owner, request.params.id);
  });
  v1.post('/v1/batches/:id/cancel', { schema: { hide: true } }, async (request: ById) => {
    const owner = await fileOwnerOf(gateway, request);
    return batches.cancel(owner, request.params.id);
  });
}
