/**
 * The Responses API routes: `POST /v1/responses` (the endpoint, through the whole pipeline), and the
 * stored responses — `GET /v1/responses/{id}` (with `stream=true`: the events replayed),
 * `DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items` (a page), and background responses
 * (`background: true`, run as jobs: ./background.ts) with `POST /v1/responses/{id}/cancel`. A stored response is the
 * organization's and key's that created it: any other caller gets 404, as for an unknown id.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { JobQueue } from '../../jobs/types.js';
import { responseShell } from '../../providers/openai/responses/from-chat.js';
import { ResponsesStreamEncoder } from '../../providers/openai/responses/stream-encoder.js';
import { inputItems, responsesToChat } from '../../providers/openai/responses/to-chat.js';
import type { ResponseObject, ResponsesRequest } from '../../providers/openai/responses/types.js';
import { isRecord } from '../../providers/shared/json.js';
import { createResponsesEndpoint, previousNotFound, responseIdOf } from '../endpoints/responses.js';
import type { Gateway } from '../gateway.js';
import type { Caller } from '../pipeline/authenticate.js';
import { queueBackground } from './background.js';
import { checkResponsesBody } from './checks.js';
import { countInputTokens } from './input-tokens.js';
import type { ResponseOwner, ResponseStore, StoredResponse } from './state.js';

const ownerOf = (caller: Caller): ResponseOwner => ({ orgId: caller.orgId, keyId: caller.keyId });

function notFound(id: string): ApiError {
  return new ApiError('not_found', `Response with id '${id}' not found.`);
}

type ById = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>;

/** Reads a page query's `limit` (1–100, default 20). */
function limitOf(value: string | undefined): number {
  if (value === undefined) return 20;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new ApiError('validation_failed', "Invalid 'limit': expected an integer from 1 to 100.", { param: 'limit' });
  return limit;
}

/** POST/GET/DELETE /v1/responses… on `app` (the /v1 scope). */
export function registerResponsesRoutes(
  app: FastifyInstance,
  gateway: Gateway,
  deps: { store: ResponseStore; clock: Clock; jobs: JobQueue },
): void {
  const { endpoint, followUps } = createResponsesEndpoint(deps);

  /** `background: true`: keep a queued response, queue the job that runs it, and answer the queued response. */
  async function startBackground(request: FastifyRequest, body: ResponsesRequest): Promise<ResponseObject> {
    if (body.stream === true)
      throw new ApiError('bad_request', 'Streaming a background response is not supported by this gateway yet', {
        param: 'stream',
      });
    if (body.store === false)
      throw new ApiError('bad_request', 'Background responses need store: true', { param: 'store' });
    const caller = await gateway.authenticate(request);
    if (!gateway.visibleModels(caller).some((m) => m.name === body.model))
      throw new ApiError(
        'model_not_found',
        `The model '${body.model}' does not exist or you do not have access to it`,
        {
          param: 'model',
        },
      );
    const previousId = body.previous_response_id;
    if (typeof previousId === 'string' && previousId !== '') {
      // Checked now (a clear 400 to the client); the job reads the conversation again when it runs.
      const conversation = await deps.store.conversation(ownerOf(caller), previousId);
      if (!conversation) throw previousNotFound(previousId);
    }
    const id = responseIdOf(request.id);
    const queued = responseShell(body, { id, createdAt: Math.floor(deps.clock.now() / 1000) }, body.model);
    queued.status = 'queued';
    const stored: StoredResponse = {
      id,
      owner: ownerOf(caller),
      userId: caller.userId,
      model: body.model,
      channelId: null,
      providerKeyId: null,
      native: false,
      previousResponseId: typeof previousId === 'string' && previousId !== '' ? previousId : null,
      input: inputItems(body.input).map((item, i) =>
        typeof item.id === 'string' ? item : { id: `msg_${id.slice(5)}i${i}`, ...item },
      ),
      response: queued,
      createdAt: deps.clock.now(),
    };
    await queueBackground(
      deps.jobs,
      deps.store,
      stored,
      { responseId: id, orgId: caller.orgId, keyId: caller.keyId, clientIp: request.ip, body },
      caller.userId,
    );
    return queued;
  }

  app.post('/v1/responses', { schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body;
    if (isRecord(body) && body.background === true) {
      checkResponsesBody(body);
      return startBackground(request, body as ResponsesRequest);
    }
    const previousId = isRecord(body) ? body.previous_response_id : undefined;
    // Only a follow-up reads the store before serving: every other request has no extra query.
    if (typeof previousId !== 'string' || previousId === '') return gateway.serve(endpoint, request, reply, null);
    checkResponsesBody(body);
    const caller = await gateway.authenticate(request);
    const conversation = await deps.store.conversation(ownerOf(caller), previousId);
    if (!conversation) throw previousNotFound(previousId);
    followUps.set(request, conversation);
    return gateway.serve(endpoint, request, reply, caller);
  });

  app.post('/v1/responses/input_tokens', { schema: { hide: true } }, async (request: FastifyRequest) => {
    checkResponsesBody(request.body);
    const body = request.body as ResponsesRequest;
    const caller = await gateway.authenticate(request);
    if (!gateway.visibleModels(caller).some((m) => m.name === body.model))
      throw new ApiError(
        'model_not_found',
        `The model '${body.model}' does not exist or you do not have access to it`,
        {
          param: 'model',
        },
      );
    let history: ReturnType<typeof inputItems> = [];
    if (typeof body.previous_response_id === 'string') {
      const conversation = await deps.store.conversation(ownerOf(caller), body.previous_response_id);
      if (!conversation) throw previousNotFound(body.previous_response_id);
      history = conversation.items;
    }
    // Hosted tools count as their declaration's text (they have no canonical form).
    const tools = (body.tools ?? []).filter((tool) => tool.type === 'function');
    const hosted = (body.tools ?? []).filter((tool) => tool.type !== 'function');
    const chat = responsesToChat({ ...body, tools, stream: false }, history);
    if (hosted.length > 0) chat.messages.push({ role: 'system', content: JSON.stringify(hosted) });
    return { object: 'response.input_tokens', input_tokens: await countInputTokens(chat) };
  });

  app.get('/v1/responses/:id', { schema: { hide: true } }, async (request: ById, reply: FastifyReply) => {
    const caller = await gateway.authenticate(request);
    const { id } = request.params;
    const stored = await deps.store.find(ownerOf(caller), id);
    if (!stored) throw notFound(id);
    if (request.query.stream !== 'true') return stored.response;
    const after = request.query.starting_after === undefined ? -1 : Number(request.query.starting_after);
    if (!Number.isInteger(after))
      throw new ApiError('validation_failed', "Invalid 'starting_after': expected an integer.", {
        param: 'starting_after',
      });
    const events = ResponsesStreamEncoder.replay(stored.response).slice(after + 1);
    reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache');
    return events.join('');
  });

  app.post('/v1/responses/:id/cancel', { schema: { hide: true } }, async (request: ById) => {
    const caller = await gateway.authenticate(request);
    const { id } = request.params;
    const stored = await deps.store.find(ownerOf(caller), id);
    if (!stored) throw notFound(id);
    if (!stored.response.background)
      throw new ApiError('bad_request', 'Only background responses can be cancelled.', { param: 'response_id' });
    const { status } = stored.response;
    if (status !== 'queued' && status !== 'in_progress') return stored.response;
    const cancelled: ResponseObject = { ...stored.response, status: 'cancelled' };
    // Stored first: the job, wherever it runs, finds it cancelled (and stops) or is aborted by its signal.
    deps.store.save({ ...stored, response: cancelled });
    await deps.store.find(ownerOf(caller), id);
    if (stored.jobId) await deps.jobs.cancel(stored.jobId);
    return cancelled;
  });

  app.delete('/v1/responses/:id', { schema: { hide: true } }, async (request: ById) => {
    const caller = await gateway.authenticate(request);
    const { id } = request.params;
    if (!(await deps.store.delete(ownerOf(caller), id))) throw notFound(id);
    return { id, object: 'response', deleted: true };
  });

  app.get('/v1/responses/:id/input_items', { schema: { hide: true } }, async (request: ById) => {
    const caller = await gateway.authenticate(request);
    const { id } = request.params;
    const stored = await deps.store.find(ownerOf(caller), id);
    if (!stored) throw notFound(id);
    const limit = limitOf(request.query.limit);
    const order = request.query.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc')
      throw new ApiError('validation_failed', "Invalid 'order': expected 'asc' or 'desc'.", { param: 'order' });
    const items = order === 'desc' ? [...stored.input].reverse() : stored.input;
    let start = 0;
    const after = request.query.after;
    if (after !== undefined) {
      const at = items.findIndex((item) => item.id === after);
      if (at < 0)
        throw new ApiError('validation_failed', `No input item '${after}' in this response.`, { param: 'after' });
      start = at + 1;
    }
    const data = items.slice(start, start + limit);
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
      has_more: start + limit < items.length,
    };
  });
}
