import { EventEmitter } from 'node:events';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { CounterStore, WindowItem } from '../../infra/state/counters.js';
import { MappedUpstreamError } from '../../providers/shared/stream-error.js';
import type { UpstreamTarget } from '../../providers/types.js';
import type { Catalog, CatalogChannel } from '../catalog.js';
import type { ClientPresence } from '../client-stream.js';
import type { AutoDisable } from '../health/auto-disable.js';
import type { HealthRegistry } from '../health/registry.js';
import { type GatewayObserver, NOOP_OBSERVER } from '../observer.js';
import type { Strategy } from '../ports.js';
import { apiErrorOf, CLIENT_CLOSED, CommittedFailure, classifyFailure, isClientError } from './failure.js';
import type { RequestLedger } from './ledger.js';
import { channelAllowed, nextKey, orderTargets, type RandomSource, type Target } from './route.js';

/** Attempt outcomes that need no allocation. */
const OK = { status: 200, code: null };
const GONE = { status: CLIENT_CLOSED, code: 'client_closed' };
const FAILED = { status: 502, code: 'upstream_error' };

/** Channels' provider limits are per-minute windows, as the providers count them. */
const CHANNEL_WINDOW_MS = 60_000;

export interface RoutingSettings {
  defaultStrategy: Strategy;
  /** Most upstream attempts per request (failover included). */
  maxAttempts: number;
  /** No new attempt starts after this long. */
  failoverDeadlineMs: number;
  /** First backoff between attempts; doubles each attempt, with jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Cool a provider key this long after a 429 without Retry-After. */
  keyCooldownMs: number;
}

export const DEFAULT_ROUTING: RoutingSettings = {
  defaultStrategy: 'weighted',
  maxAttempts: 3,
  failoverDeadlineMs: 60_000,
  backoffBaseMs: 50,
  backoffMaxMs: 2_000,
  keyCooldownMs: 60_000,
};

export interface DispatcherDeps {
  catalog: Catalog;
  health: HealthRegistry;
  clock: Clock;
  random?: RandomSource | undefined;
  routing: () => RoutingSettings;
  /** Counters for the per-minute windows of channels' provider limits (options.limits). */
  counters?: CounterStore | undefined;
  /** Takes channels out of routing that cannot work (a rejected key, persistent failure). */
  autoDisable?: AutoDisable | undefined;
  /** Metrics and traces of attempts, retries and key rests. */
  observer?: GatewayObserver | undefined;
}

/**
 * Aborts one attempt (client gone, total deadline). undici takes an EventEmitter with `aborted` and
 * `reason` as well as an AbortSignal; an emitter is chosen because creating an AbortController costs
 * ~6 µs on Node 20, on every request, and almost no attempt is ever aborted.
 */
export class AttemptAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/** One attempt's view of its target: the route, the key chosen from the pool, and what the adapter needs. */
export interface Attempt {
  target: Target;
  upstream: UpstreamTarget;
  /** Aborts on client disconnect or the channel's total timeout. */
  signal: AttemptAbort;
  /** True when the channel's total timeout (not the client) ended the attempt. */
  timedOut(): boolean;
  /** The upstream's HTTP status, set by the attempt once it has a response (for the request log). */
  upstreamStatus: number | null;
}

/** Wait `ms`, or less if the client leaves; true when the wait ran its course. */
function waitUnlessGone(client: ClientPresence, ms: number): Promise<boolean> {
  if (client.gone) return Promise.resolve(false);
  return new Promise((resolve) => {
    let stop: (() => void) | undefined;
    const timer = setTimeout(() => {
      stop?.();
      resolve(true);
    }, ms);
    stop = client.onGone(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** The request an attempt serves: its ledger and its client. */
export interface InFlight {
  readonly ledger: RequestLedger;
  readonly client: ClientPresence;
}

/** What runs one attempt against one target (an endpoint). */
export interface AttemptUnit<X, T> {
  attempt(x: X, attempt: Attempt): Promise<T>;
  /** Narrow the planned targets for this request (see Endpoint.targets). */
  targets?(x: X, planned: Target[]): Target[];
}

/**
 * Runs a request against the model's targets in routing order: failover to the next target on retryable
 * errors before the client got anything, exponential backoff with jitter between attempts, a bound on
 * attempts and total time, per-key cooldown on 429, circuit breakers, fallback models.
 */
export class Dispatcher {
  readonly #counters = new Map<string, number>();
  readonly #observer: GatewayObserver;

  constructor(private readonly deps: DispatcherDeps) {
    this.#observer = deps.observer ?? NOOP_OBSERVER;
  }

  /** Targets for this request: the model's, then each fallback model's. */
  plan(ledger: RequestLedger, routing: RoutingSettings = this.deps.routing()): Target[] {
    const now = this.deps.clock.now();
    const models = [ledger.ctx.model];
    for (const name of ledger.ctx.model.fallbacks) {
      const fallback = this.deps.catalog.getModel(name);
      if (fallback?.active && !models.includes(fallback)) models.push(fallback);
    }
    const targets: Target[] = [];
    for (const model of models) {
      targets.push(
        ...orderTargets(model, {
          strategy: model.strategy ?? routing.defaultStrategy,
          health: this.deps.health,
          random: this.deps.random,
          now,
          counters: this.#counters,
          channelLimits: ledger.ctx.caller.channelLimits,
        }),
      );
    }
    return targets;
  }

  /**
   * Run `unit.attempt(x, …)` against the request's targets until one succeeds: the one dispatch loop of
   * every endpoint (an object and its method rather than a closure: nothing is allocated per request).
   */
  async run<X extends InFlight, T>(x: X, unit: AttemptUnit<X, T>): Promise<T> {
    const { ledger, client } = x;
    const routing = this.deps.routing();
    const planned = this.plan(ledger, routing);
    const targets = (unit.targets ? unit.targets(x, planned) : planned).slice(0, Math.max(1, routing.maxAttempts));
    if (targets.length === 0) throw this.noTarget(ledger);
    const random = this.deps.random ?? Math.random;
    const startedAt = this.deps.clock.now();
    let lastError: ApiError | undefined;
    let saturatedFor: number | null = null;
    const observer = this.#observer;
    let failed: CatalogChannel | undefined;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i] as Target;
      if (i > 0) {
        const backoff = Math.min(routing.backoffMaxMs, routing.backoffBaseMs * 2 ** (i - 1)) * (0.5 + random() / 2);
        if (this.deps.clock.now() - startedAt + backoff > routing.failoverDeadlineMs) break;
        const waitFrom = ledger.elapsedMs();
        const waited = await waitUnlessGone(client, backoff);
        ledger.waitedMs += ledger.elapsedMs() - waitFrom;
        if (!waited) throw new ApiError('client_closed', 'Client closed the request');
      }
      const { channel, route } = target;
      const waitMs =
        channel.options.limits && this.deps.counters ? await this.saturated(channel, ledger.estimatedTokens) : null;
      if (waitMs !== null) {
        // The provider would answer 429: do not send, try the next target.
        saturatedFor = saturatedFor === null ? waitMs : Math.min(saturatedFor, waitMs);
        continue;
      }
      const now = this.deps.clock.now();
      const key = nextKey(channel, this.deps.health, now);
      const health = this.deps.health.target(channel.id, route.upstreamModel);
      health.start(now);
      if (failed) observer.retried(ledger, failed, channel);
      ledger.useTarget(channel, route.upstreamModel, target.model);
      const traceparent = observer.attemptStarted(ledger, channel, route.upstreamModel);
      const attemptStart = ledger.elapsedMs();
      let outcome: { status: number; code: string | null } = OK;
      // Aborted by the client leaving or by the channel's total timeout.
      const controller = new AttemptAbort();
      let deadlineHit = false;
      const timer = setTimeout(() => {
        deadlineHit = true;
        controller.abort(new Error('total timeout'));
      }, channel.timeouts.totalMs);
      const stopListening = client.onGone(() => controller.abort(new Error('client closed the connection')));
      const current: Attempt = {
        target,
        signal: controller,
        timedOut: () => deadlineHit,
        upstream: {
          baseUrl: channel.baseUrl,
          apiKey: key.secret,
          upstreamModel: route.upstreamModel,
          headers: traceparent ? { ...channel.options.headers, traceparent } : (channel.options.headers ?? {}),
          options: channel.options.provider ?? {},
        },
        upstreamStatus: null,
      };
      try {
        const value = await unit.attempt(x, current);
        const ttft = ledger.ttftMs;
        health.succeed(
          this.deps.clock.now(),
          ttft !== null && ttft >= attemptStart ? ttft - attemptStart : Math.round(ledger.elapsedMs() - attemptStart),
        );
        return value;
      } catch (error) {
        failed = channel;
        outcome = error instanceof MappedUpstreamError ? error.info : error instanceof ApiError ? error : FAILED;
        if (client.gone) {
          // The client left: not the upstream's fault, and nothing more to do.
          outcome = GONE;
          health.release();
          if (error instanceof CommittedFailure) throw error;
          throw new ApiError('client_closed', 'Client closed the request');
        }
        // The request itself was refused (by the adapter, before anything was sent): the client's problem.
        if (error instanceof ApiError) {
          health.release();
          throw error;
        }
        const info = classifyFailure(error, channel.name, deadlineHit, false);
        outcome = info;
        if (isClientError(info)) {
          // The upstream refused this request's content (400, 413, …): not the channel's fault.
          health.release();
        } else {
          const opened = health.fail(this.deps.clock.now(), info.message, this.deps.health.options);
          if (opened) this.deps.autoDisable?.breakerOpened(channel, health.consecutiveOpens, info.message);
        }
        if (info.status === 429 && key.id) {
          this.deps.health.coolKey(key.id, (info.retryAfterSeconds ?? routing.keyCooldownMs / 1000) * 1000, channel.id);
          observer.keyRested(channel);
        }
        if (info.code === 'upstream_auth_failed') this.deps.autoDisable?.keyRejected(channel, info.message);
        if (error instanceof CommittedFailure) throw error;
        ledger.addAttempt(channel, info.status, current.upstreamStatus, info.message, attemptStart);
        lastError = apiErrorOf(info);
        if (!info.retryable) break;
      } finally {
        clearTimeout(timer);
        stopListening();
        ledger.attemptOver();
        observer.attemptEnded(ledger, channel, {
          status: outcome.status,
          upstreamStatus: current.upstreamStatus,
          errorCode: outcome.code,
          ms: ledger.elapsedMs() - attemptStart,
        });
      }
    }
    if (!lastError && saturatedFor !== null) {
      throw new ApiError(
        'rate_limit_exceeded',
        `Every channel of model ${ledger.ctx.model.name} is at its provider rate limit; retry shortly`,
        {
          retryAfterSeconds: Math.max(1, Math.ceil(saturatedFor / 1000)),
        },
      );
    }
    throw lastError ?? this.noTarget(ledger);
  }

  /** Null when the channel has room under its provider limits (taking the room), else ms until it has. */
  private async saturated(channel: CatalogChannel, tokens: number): Promise<number | null> {
    const limits = channel.options.limits;
    const counters = this.deps.counters;
    if (!limits || !counters) return null;
    const windows: WindowItem[] = [];
    if (limits.rpm)
      windows.push({ key: `rl:rpm:chn:${channel.id}`, points: 1, limit: limits.rpm, windowMs: CHANNEL_WINDOW_MS });
    if (limits.tpm && tokens > 0)
      windows.push({
        key: `rl:tpm:chn:${channel.id}`,
        points: Math.min(tokens, limits.tpm),
        limit: limits.tpm,
        windowMs: CHANNEL_WINDOW_MS,
      });
    if (windows.length === 0) return null;
    const { failed, windows: states } = await counters.take(windows, []);
    return failed < 0 ? null : (states[failed]?.resetMs ?? CHANNEL_WINDOW_MS);
  }

  /** Nothing to try: 429 with Retry-After while the only keys rest after a 429, else 503. */
  private noTarget(ledger: RequestLedger): ApiError {
    const now = this.deps.clock.now();
    let restMs: number | null = null;
    for (const route of ledger.ctx.model.routes) {
      if (!route.channel.active || !channelAllowed(route.channel, ledger.ctx.caller.channelLimits)) continue;
      for (const key of route.channel.keys) {
        const left = this.deps.health.keyRestRemaining(key.id, now);
        if (left > 0) restMs = restMs === null ? left : Math.min(restMs, left);
      }
    }
    if (restMs !== null) {
      return new ApiError(
        'rate_limit_exceeded',
        `The upstream rate-limited every key of model ${ledger.ctx.model.name}; retry later`,
        {
          retryAfterSeconds: Math.max(1, Math.ceil(restMs / 1000)),
        },
      );
    }
    return new ApiError('no_available_channel', `No available channel serves model ${ledger.ctx.model.name} right now`);
  }
}
