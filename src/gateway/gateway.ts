import type { FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { ApiError } from '../core/errors.js';
import { toApiError } from '../http/errors.js';
import type { KeyVerifier } from '../modules/keys/verifier.js';
import type { UsageRecorder } from '../modules/usage/recorder.js';
import type { ChatCompletion, ChatRequest } from '../providers/types.js';
import { OutputAccumulator, type TokenCounts } from './accounting.js';
import { type Caller, authenticateCaller, mayUseModel } from './caller.js';
import type { Catalog, CatalogModel } from './catalog.js';
import type { ChatService } from './chat.js';
import type { Dispatcher } from './dispatch.js';
import { RequestLedger } from './ledger.js';
import type { UpstreamClient } from './upstream.js';

export interface GatewayDeps {
  catalog: Catalog;
  verifier: KeyVerifier;
  recorder: UsageRecorder;
  dispatcher: Dispatcher;
  chat: ChatService;
  upstream: UpstreamClient;
  clock: Clock;
  masterKey: string | undefined;
  /** Whether to tell clients which channel served them (admin setting). */
  exposeChannelHeader: () => boolean;
}

/** The data plane's shared steps: authenticate, resolve the model, open the ledger, close it on failure. */
export class Gateway {
  readonly dispatcher: Dispatcher;
  readonly chat: ChatService;
  readonly upstream: UpstreamClient;
  readonly catalog: Catalog;

  constructor(private readonly deps: GatewayDeps) {
    this.dispatcher = deps.dispatcher;
    this.chat = deps.chat;
    this.upstream = deps.upstream;
    this.catalog = deps.catalog;
  }

  authenticate(request: FastifyRequest): Promise<Caller> {
    return authenticateCaller(request, this.deps.verifier, this.deps.masterKey);
  }

  /** Authenticate, check the model exists and is allowed, and open the request's ledger. */
  async begin(request: FastifyRequest, modelName: string, endpoint: 'chat' | 'messages' | 'embeddings', stream: boolean): Promise<{ caller: Caller; ledger: RequestLedger }> {
    const caller = await this.authenticate(request);
    const model = this.deps.catalog.getModel(modelName);
    if (!model || !model.active) {
      throw new ApiError('model_not_found', `The model '${modelName}' does not exist or you do not have access to it`, { param: 'model' });
    }
    if (!mayUseModel(caller, modelName)) {
      throw new ApiError('model_not_allowed', `This API key may not use the model '${modelName}'`, { param: 'model' });
    }
    const ledger = new RequestLedger({ requestId: request.id, caller, model, endpoint, stream, clientIp: request.ip }, this.deps.recorder, this.deps.clock);
    return { caller, ledger };
  }

  /** Headers a successful /v1 answer carries (known once a target is chosen). */
  responseHeaders(ledger: RequestLedger): Record<string, string> {
    return this.deps.exposeChannelHeader() && ledger.channel ? { 'x-aihub-channel': ledger.channel.id } : {};
  }

  /** Settle a failed request (once) and return the error to send. */
  fail(ledger: RequestLedger, error: unknown): ApiError {
    const apiError = toApiError(error);
    if (!ledger.settled) ledger.settle(apiError.status, apiError.code);
    return apiError;
  }

  /** Tokens of a non-stream answer whose upstream reported no usage. */
  estimate(request: ChatRequest, completion: ChatCompletion): TokenCounts {
    const output = new OutputAccumulator();
    for (const choice of completion.choices) {
      output.addText(choice.message.content ?? '');
      output.addText(choice.message.reasoning_content ?? '');
      for (const call of choice.message.tool_calls ?? []) output.addText(call.function.name + call.function.arguments);
    }
    return output.estimate(request);
  }

  /** Active models the caller may use, by name. */
  visibleModels(caller: Caller): CatalogModel[] {
    const out: CatalogModel[] = [];
    for (const model of this.deps.catalog.allModels()) if (model.active && mayUseModel(caller, model.name)) out.push(model);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
