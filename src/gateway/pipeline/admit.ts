/**
 * Stage 2 of a /v1 request: admit it. The model must exist and be allowed to the caller; the request's
 * ledger opens; every limit of its key, user, team and organization admits it (reserving its estimated
 * cost). A refusal is recorded like any request (no tokens, no cost) and thrown.
 */
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import { costOf, type PromptShape, type TokenCounts, templateTokens } from '../accounting.js';
import { type Catalog, type CatalogModel, unknownModel } from '../catalog.js';
import { type GatewayObserver, NOOP_OBSERVER } from '../observer.js';
import type { Admission, GatewaySettings, LimitsLookup, Scope, UsageSink } from '../ports.js';
import { type EndpointKind, errorBodyFor } from '../protocols.js';
import type { BillableUnits } from '../unit-prices.js';
import { type Caller, mayUseModel } from './authenticate.js';
import { batchOf, type LedgerContext, RequestLedger } from './ledger.js';
import { modelReachable } from './route.js';
import { fail } from './settle.js';

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
  /** Units the request may be billed (images asked for, speech characters…), for models priced per unit. */
  units?: BillableUnits | undefined;
}

export interface AdmitDeps {
  catalog: Catalog;
  usage: UsageSink;
  admission: Admission;
  limits: LimitsLookup;
  settings: Pick<GatewaySettings, 'bodyCapture'>;
  clock: Clock;
  observer?: GatewayObserver | undefined;
}

/** Default answer size reserved when neither the client nor the model sets a maximum. */
const DEFAULT_OUTPUT_RESERVATION = 4096;

/** Opens and admits requests (one instance per gateway). */
export class Admitter {
  readonly #observer: GatewayObserver;

  constructor(private readonly deps: AdmitDeps) {
    this.#observer = deps.observer ?? NOOP_OBSERVER;
  }

  /** Check the model, open the ledger, admit against every limit. */
  async admit(
    caller: Caller,
    request: FastifyRequest,
    modelName: string,
    endpoint: EndpointKind,
    stream: boolean,
    usage: () => UsageEstimate,
  ): Promise<RequestLedger> {
    const model = this.deps.catalog.getModel(modelName);
    if (!model?.active) {
      const message = `The model '${modelName}' does not exist or you do not have access to it`;
      throw this.refuse(request, caller, modelName, endpoint, stream, 'model_not_found', message);
    }
    if (!mayUseModel(caller, modelName)) {
      const message = `This API key may not use the model '${modelName}'`;
      throw this.refuse(request, caller, modelName, endpoint, stream, 'model_not_allowed', message);
    }
    if (
      caller.channelLimits.length > 0 &&
      !modelReachable(model, caller.channelLimits, (name) => this.deps.catalog.getModel(name))
    ) {
      const message = `No channel this API key's organization or team may use serves the model '${modelName}'`;
      throw this.refuse(request, caller, modelName, endpoint, stream, 'model_not_allowed', message);
    }
    const ledger = new RequestLedger(
      this.context(request, caller, model, endpoint, stream),
      this.deps.usage,
      this.deps.clock,
      this.#observer,
    );
    ledger.admission = await this.reserve(ledger, caller, model, endpoint, usage);
    return ledger;
  }

  /** Admit the request against every limit of its levels; a refusal is recorded (no tokens, no cost) and thrown. */
  private async reserve(
    ledger: RequestLedger,
    caller: Caller,
    model: CatalogModel,
    endpoint: EndpointKind,
    usage: () => UsageEstimate,
  ): Promise<RequestLedger['admission']> {
    try {
      return await this.deps.admission.admit(this.scopesOf(caller), () => {
        const u = usage();
        const prompt = u.promptTokens + (u.shape ? this.templateTokensFor(model, u.shape) : 0);
        const perChoice =
          u.maxOutputTokens ?? model.maxOutputTokens ?? (endpoint === 'embeddings' ? 0 : DEFAULT_OUTPUT_RESERVATION);
        const completion = perChoice * Math.max(1, u.choices ?? 1);
        const tokens = { prompt, completion, cached: 0, reasoning: 0, estimated: true, units: u.units };
        ledger.estimatedTokens = prompt + completion;
        // A fallback model may serve (and bill) the request: reserve at the dearest price that could apply.
        return {
          tokens: prompt + completion,
          costMicros: Math.max(costOf(tokens, model.prices), ...this.fallbackCosts(model, tokens)),
        };
      });
    } catch (error) {
      if (error instanceof ApiError && (error.code === 'rate_limit_exceeded' || error.code === 'insufficient_quota'))
        this.#observer.refused(ledger, error.code === 'insufficient_quota' ? 'budget' : 'rate_limit');
      throw fail(ledger, error);
    }
  }

  /**
   * Record a request refused before it had a ledger (key not allowed from this address, unknown or
   * forbidden model), so it shows in the caller's and the admin's logs and error counts; returns the error.
   */
  refuse(
    request: FastifyRequest,
    caller: Caller,
    modelName: string,
    endpoint: EndpointKind,
    stream: boolean,
    code: 'ip_not_allowed' | 'model_not_found' | 'model_not_allowed',
    message: string,
  ): ApiError {
    const error = new ApiError(code, message, code === 'ip_not_allowed' ? {} : { param: 'model' });
    const model = this.deps.catalog.getModel(modelName) ?? unknownModel(modelName);
    const ledger = new RequestLedger(
      this.context(request, caller, model, endpoint, stream),
      this.deps.usage,
      this.deps.clock,
      this.#observer,
    );
    ledger.respondedWith(errorBodyFor(endpoint, error, request.id));
    ledger.settle(error.status, error.code);
    return error;
  }

  private context(
    request: FastifyRequest,
    caller: Caller,
    model: CatalogModel,
    endpoint: EndpointKind,
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
      batchId: batchOf.get(request),
    };
    const capture = this.deps.settings.bodyCapture();
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
  private scopesOf(caller: Caller): Scope[] {
    const scopes: Scope[] = [];
    if (caller.keyId && caller.keyLimits) scopes.push({ type: 'key', id: caller.keyId, policy: caller.keyLimits });
    if (caller.userId)
      scopes.push({ type: 'user', id: caller.userId, policy: this.deps.limits.get('user', caller.userId) });
    if (caller.teamId)
      scopes.push({ type: 'team', id: caller.teamId, policy: this.deps.limits.get('team', caller.teamId) });
    if (caller.orgId) scopes.push({ type: 'org', id: caller.orgId, policy: this.deps.limits.get('org', caller.orgId) });
    return scopes;
  }
}
