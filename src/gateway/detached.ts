/**
 * The data plane without HTTP: one request of a /v1 endpoint for a caller that is already known (a line of a
 * batch runs as the key that created the batch). It goes through the same stages as a /v1 request — admit
 * (limits, budgets, balance), route, dispatch with failover, settle with its usage row — and is answered as
 * a status and a body instead of an HTTP response. Lines never stream.
 */
import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { ApiError } from '../core/errors.js';
import { toApiError } from '../http/errors.js';
import { chatCompletions } from './endpoints/chat-completions.js';
import { embeddings } from './endpoints/embeddings.js';
import type { Endpoint } from './endpoints/endpoint.js';
import { createResponsesEndpoint, type FollowUp } from './endpoints/responses.js';
import type { Gateway } from './gateway.js';
import type { Caller } from './pipeline/authenticate.js';
import { batchOf } from './pipeline/ledger.js';
import { errorBodyFor } from './protocols.js';
import type { ResponseStore } from './responses/state.js';

/** The endpoints a batch may name (OpenAI's Batch API: chat completions, embeddings, responses). */
export const DETACHED_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings', '/v1/responses'] as const;
export type DetachedEndpoint = (typeof DETACHED_ENDPOINTS)[number];

export interface DetachedRequest {
  /** The request id of its usage row. */
  requestId: string;
  body: unknown;
  /** The address the request is logged with (the batch creator's). */
  clientIp: string;
  /** The batch the request is a line of (tags its usage row, applies the batch discount). */
  batchId?: string | undefined;
  /** A background response run (`/v1/responses` only): its queued response's id, and what it follows. */
  background?: { responseId: string; followUp: FollowUp | undefined } | undefined;
  /** Aborts the upstream request, as a client that leaves does. */
  signal?: AbortSignal | undefined;
}

/** What the client would have got: the HTTP status and the JSON body. */
export interface DetachedAnswer {
  status: number;
  body: unknown;
}

/** Where the pipeline writes a non-stream answer: headers are dropped; `close` is heard as the client leaving. */
class DetachedReply {
  readonly raw = Object.assign(new EventEmitter(), { writableFinished: false });
  headers(): this {
    return this;
  }
  header(): this {
    return this;
  }
  type(): this {
    return this;
  }
}

const QUIET_SERVER = { log: { info: () => undefined } };

/** Runs requests through the gateway without HTTP (see the file comment). */
export class DetachedRunner {
  readonly #endpoints: Record<DetachedEndpoint, Endpoint<unknown, unknown>>;
  readonly #responses: ReturnType<typeof createResponsesEndpoint>;

  constructor(
    private readonly gateway: Gateway,
    deps: { store: ResponseStore; clock: Clock },
  ) {
    this.#responses = createResponsesEndpoint(deps);
    this.#endpoints = {
      '/v1/chat/completions': chatCompletions as Endpoint<unknown, unknown>,
      '/v1/embeddings': embeddings as Endpoint<unknown, unknown>,
      '/v1/responses': this.#responses.endpoint as Endpoint<unknown, unknown>,
    };
  }

  /** The caller for the virtual key `keyId`, checked now: a revoked, disabled or expired key is refused (401). */
  callerForKey(keyId: string): Promise<Caller> {
    return this.gateway.callerForKey(keyId);
  }

  /** As `callerForKey`, and null for the master key (while it is configured). */
  callerFor(keyId: string | null): Promise<Caller> {
    return this.gateway.callerFor(keyId);
  }

  /** Serve one request; every refusal and failure is an answer (status ≥ 400 with the OpenAI error body). */
  async run(endpoint: DetachedEndpoint, caller: Caller, input: DetachedRequest): Promise<DetachedAnswer> {
    const request = {
      id: input.requestId,
      ip: input.clientIp,
      body: input.body,
      headers: {},
      query: {},
      params: {},
      method: 'POST',
      url: endpoint,
      server: QUIET_SERVER,
    } as unknown as FastifyRequest;
    if (input.batchId !== undefined) batchOf.set(request, input.batchId);
    if (input.background && endpoint === '/v1/responses') {
      this.#responses.backgrounds.set(request, input.background.responseId);
      if (input.background.followUp) this.#responses.followUps.set(request, input.background.followUp);
    }
    const reply = new DetachedReply();
    const leave = () => reply.raw.emit('close');
    input.signal?.addEventListener('abort', leave, { once: true });
    try {
      if (typeof input.body === 'object' && input.body !== null && (input.body as { stream?: unknown }).stream === true)
        throw new ApiError('bad_request', 'Batch requests cannot stream', { param: 'stream' });
      const answer = await this.gateway.serve(
        this.#endpoints[endpoint],
        request,
        reply as unknown as FastifyReply,
        caller,
      );
      return { status: 200, body: typeof answer === 'string' ? JSON.parse(answer) : answer };
    } catch (error) {
      const apiError = toApiError(error);
      return { status: apiError.status, body: errorBodyFor('chat', apiError, input.requestId) };
    } finally {
      input.signal?.removeEventListener('abort', leave);
    }
  }
}
