import type { FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { ApiError } from '../core/errors.js';
import { toApiError } from '../http/errors.js';
import type { KeyVerifier } from '../modules/keys/verifier.js';
import type { LimitEnforcer, Scope } from '../modules/limits/enforcer.js';
import type { LimitsService } from '../modules/limits/service.js';
import type { UsageRecorder } from '../modules/usage/recorder.js';
import type { ChatCompletion, ChatRequest } from '../providers/types.js';
import { costOf, OutputAccumulator, type PromptShape, type TokenCounts, templateTokens } from './accounting.js';
import { authenticateCaller, type Caller, mayUseModel } from './caller.js';
import { type Catalog, type CatalogModel, unknownModel } from './catalog.js';
import type { ChatService } from './chat.js';
import type { Dispatcher } from './dispatch.js';
import { type BodyCapture, type LedgerContext, RequestLedger } from './ledger.js';
import { errorBodyFor } from './protocols.js';
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
  /** Whether (and how much of) request and response bodies the request log keeps (admin setting). */
  bodyCapture?: () => BodyCapture | undefined;
  limits: LimitsService;
  enforcer: LimitEnforcer;
  /** Key-level allowed-IP check (CIDR lists). */
  ipAllowed: (ip: string, cidrs: string[]) => boolean;
}

/** What a request may consume, for reserving budget before it runs. */
export interface UsageEstimate {
  /** Answers asked for (OpenAI `n`); each may use the full output budget. */
  choices?: number | undefined;
  /** The prompt's own text (chat: `approximatePromptTokens`), without any template framing. */
  promptTokens: number;
  /** The chat prompt's shape, for the providers' template overhead (absent for embeddings: no template). */
  shape?: PromptShape;
  /** The client's max output tokens, if it set one. */
  maxOutputTokens: number | null;
}

const addressMessage = (ip: string) => `This API key may not be used from ${ip}`;

/** Default answer size reserved when neither the client nor the model sets a maximum. */
const DEFAULT_OUTPUT_RESERVATION = 4096;

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

  /** Who is calling, with the key's address restriction applied (every /v1 route goes through here). */
  async authenticate(request: FastifyRequest): Promise<Caller> {
    const caller = await authenticateCaller(request, this.deps.verifier, this.deps.masterKey);
    if (this.addressRefused(caller, request.ip)) throw new ApiError('ip_not_allowed', addressMessage(request.ip));
    return caller;
  }

  private addressRefused(caller: Caller, ip: string): boolean {
    return caller.allowedIps !== null && !this.deps.ipAllowed(ip, caller.allowedIps);
  }

  /**
   * Authenticate, check the model exists and is allowed, open the request's ledger, and admit it against
   * every limit of its key, user, team and organization (reserving its estimated cost).
   */
  async begin(
    request: FastifyRequest,
    modelName: string,
    endpoint: 'chat' | 'messages' | 'embeddings',
    stream: boolean,
    usage: () => UsageEstimate,
  ): Promise<{ caller: Caller; ledger: RequestLedger }> {
    const caller = await authenticateCaller(request, this.deps.verifier, this.deps.masterKey);
    if (this.addressRefused(caller, request.ip))
      throw this.refuse(request, caller, modelName, endpoint, stream, 'ip_not_allowed', addressMessage(request.ip));
    return this.beginAs(caller, request, modelName, endpoint, stream, usage);
  }

  /** `begin` for a caller authenticated some other way (the console's playground signs in with a session). */
  async beginAs(
    caller: Caller,
    request: FastifyRequest,
    modelName: string,
    endpoint: 'chat' | 'messages' | 'embeddings',
    stream: boolean,
    usage: () => UsageEstimate,
  ): Promise<{ caller: Caller; ledger: RequestLedger }> {
    const model = this.deps.catalog.getModel(modelName);
    if (!model?.active) {
      const message = `The model '${modelName}' does not exist or you do not have access to it`;
      throw this.refuse(request, caller, modelName, endpoint, stream, 'model_not_found', message);
    }
    if (!mayUseModel(caller, modelName)) {
      const message = `This API key may not use the model '${modelName}'`;
      throw this.refuse(request, caller, modelName, endpoint, stream, 'model_not_allowed', message);
    }
    const ledger = new RequestLedger(
      this.context(request, caller, model, endpoint, stream),
      this.deps.recorder,
      this.deps.clock,
    );
    ledger.admission = await this.admit(ledger, caller, model, endpoint, usage);
    return { caller, ledger };
  }

  /** Admit the request against every limit of its levels; a refusal is recorded (no tokens, no cost) and thrown. */
  private async admit(
    ledger: RequestLedger,
    caller: Caller,
    model: CatalogModel,
    endpoint: 'chat' | 'messages' | 'embeddings',
    usage: () => UsageEstimate,
  ): Promise<RequestLedger['admission']> {
    try {
      return await this.deps.enforcer.admit(this.scopesOf(caller), () => {
        const u = usage();
        const prompt = u.promptTokens + (u.shape ? this.templateTokensFor(model, u.shape) : 0);
        const perChoice =
          u.maxOutputTokens ?? model.maxOutputTokens ?? (endpoint === 'embeddings' ? 0 : DEFAULT_OUTPUT_RESERVATION);
        const completion = perChoice * Math.max(1, u.choices ?? 1);
        const tokens = { prompt, completion, cached: 0, reasoning: 0, estimated: true };
        ledger.estimatedTokens = prompt + completion;
        // A fallback model may serve (and bill) the request: reserve at the dearest price that could apply.
        return {
          tokens: prompt + completion,
          costMicros: Math.max(costOf(tokens, model.prices), ...this.fallbackCosts(model, tokens)),
        };
      });
    } catch (error) {
      throw this.fail(ledger, error);
    }
  }

  /**
   * Record a request refused before it had a ledger (key not allowed from this address, unknown or
   * forbidden model), so it shows in the caller's and the admin's logs and error counts; returns the error.
   */
  private refuse(
    request: FastifyRequest,
    caller: Caller,
    modelName: string,
    endpoint: 'chat' | 'messages' | 'embeddings',
    stream: boolean,
    code: 'ip_not_allowed' | 'model_not_found' | 'model_not_allowed',
    message: string,
  ): ApiError {
    const error = new ApiError(code, message, code === 'ip_not_allowed' ? {} : { param: 'model' });
    const model = this.deps.catalog.getModel(modelName) ?? unknownModel(modelName);
    const ledger = new RequestLedger(
      this.context(request, caller, model, endpoint, stream),
      this.deps.recorder,
      this.deps.clock,
    );
    ledger.respondedWith(errorBodyFor(endpoint, error, request.id));
    ledger.settle(error.status, error.code);
    return error;
  }

  private context(
    request: FastifyRequest,
    caller: Caller,
    model: CatalogModel,
    endpoint: 'chat' | 'messages' | 'embeddings',
    stream: boolean,
  ): LedgerContext {
    const ctx: LedgerContext = {
      requestId: request.id,
      caller,
      model,
      endpoint,
      stream,
      clientIp: request.ip,
      request,
    };
    const capture = this.deps.bodyCapture?.();
    if (capture) {
      ctx.capture = capture;
      ctx.requestBody = request.body;
    }
    return ctx;
  }

  /**
   * The template tokens the request may be billed: the largest over the model's providers (the catalog
   * precomputes each model's) and those of its fallbacks, since routing happens after admission.
   */
  private templateTokensFor(model: CatalogModel, shape: PromptShape): number {
    let most = templateTokens(model.promptOverhead, shape);
    for (const name of model.fallbacks) {
      const fallback = this.deps.catalog.getModel(name);
      if (fallback?.active) most = Math.max(most, templateTokens(fallback.promptOverhead, shape));
    }
    return most;
  }

  private fallbackCosts(model: CatalogModel, tokens: TokenCounts): number[] {
    const costs: number[] = [];
    for (const name of model.fallbacks) {
      const fallback = this.deps.catalog.getModel(name);
      if (fallback?.active) costs.push(costOf(tokens, fallback.prices));
    }
    return costs;
  }

  /** The levels a caller belongs to, each with its limits. */
  scopesOf(caller: Caller): Scope[] {
    const scopes: Scope[] = [];
    if (caller.keyId && caller.keyLimits) scopes.push({ type: 'key', id: caller.keyId, policy: caller.keyLimits });
    if (caller.userId)
      scopes.push({ type: 'user', id: caller.userId, policy: this.deps.limits.get('user', caller.userId) });
    if (caller.teamId)
      scopes.push({ type: 'team', id: caller.teamId, policy: this.deps.limits.get('team', caller.teamId) });
    if (caller.orgId) scopes.push({ type: 'org', id: caller.orgId, policy: this.deps.limits.get('org', caller.orgId) });
    return scopes;
  }

  /** Headers a successful /v1 answer carries (known once a target is chosen). */
  responseHeaders(ledger: RequestLedger): Record<string, string> {
    const limits = ledger.admission?.headers ?? {};
    return this.deps.exposeChannelHeader() && ledger.channel
      ? { ...limits, 'x-aihub-channel': ledger.channel.id }
      : limits;
  }

  /** Settle a failed request (once) and return the error to send. */
  fail(ledger: RequestLedger, error: unknown): ApiError {
    const apiError = toApiError(error);
    if (!ledger.settled) {
      ledger.respondedWith(errorBodyFor(ledger.ctx.endpoint, apiError, ledger.ctx.requestId));
      ledger.settle(apiError.status, apiError.code);
    }
    return apiError;
  }

  /** Tokens of a non-stream answer whose upstream reported no usage. */
  estimate(request: ChatRequest, completion: ChatCompletion): Promise<TokenCounts> {
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
    for (const model of this.deps.catalog.allModels())
      if (model.active && mayUseModel(caller, model.name)) out.push(model);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
