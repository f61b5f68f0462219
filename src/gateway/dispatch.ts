import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import { ApiError, type ErrorCode } from '../core/errors.js';
import type { CounterStore, WindowItem } from '../infra/state/counters.js';
import { isUpstreamStreamError } from '../providers/shared/stream-error.js';
import type { UpstreamErrorInfo, UpstreamTarget } from '../providers/types.js';
import type { Catalog, CatalogChannel } from './catalog.js';
import type { ClientPresence } from './client-stream.js';
import type { HealthRegistry } from './health.js';
import type { RequestLedger } from './ledger.js';
import { nextKey, orderTargets, type RandomSource, type Strategy, type Target } from './router.js';
import { transportErrorInfo } from './upstream.js';

/** What status a client-side disconnect is recorded with (nginx's convention). */
export const CLIENT_CLOSED = 499;
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
  /** Called when an upstream rejects a channel's provider key (401/403). */
  onAuthFailure?: (channel: CatalogChannel, message: string) => void;
  /** Called when a target's breaker opens (for auto-disable of persistently failing channels). */
  onBreakerOpen?: (channel: CatalogChannel, consecutiveOpens: number, error: string) => void;
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

/**
 * Thrown by an attempt that failed after the client already received part of the answer: the failure
 * was reported inside the stream and the request settled; nothing may be retried or sent any more.
 */
export class CommittedFailure extends Error {
  constructor(readonly info: UpstreamErrorInfo) {
    super(info.message);
  }
}

/** Thrown by an attempt with a mapped upstream error (HTTP error status, error event before any output). */
export class UpstreamFailure extends Error {
  constructor(readonly info: UpstreamErrorInfo) {
    super(info.message);
  }
}

/**
 * Runs `build`: the translation of the client's request into the upstream's (and its serialisation).
 * Nothing has been sent yet, so whatever it throws is the request's fault: a 400 for the client, never a
 * failure of the channel (that counted against its health and breaker, and failed over to channels that
 * would fail the same way). Adapters' deliberate refusals keep their own meaning: an ApiError as thrown,
 * an UnsupportedRequestError ("this provider cannot do X") through its `info`.
 */
export function clientFault<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ApiError || hasErrorInfo(error)) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new ApiError(
      'bad_request',
      `The request is invalid and could not be translated for the upstream (${detail})`,
      {
        cause: error,
      },
    );
  }
}

function hasErrorInfo(error: unknown): boolean {
  const info = (error as { info?: UpstreamErrorInfo } | null)?.info;
  return typeof info?.status === 'number' && typeof info.code === 'string';
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

export function apiErrorOf(info: UpstreamErrorInfo): ApiError {
  return new ApiError(info.code as ErrorCode, info.message, {
    status: info.status,
    retryAfterSeconds: info.retryAfterSeconds,
  });
}

/**
 * Runs a request against the model's targets in routing order: failover to the next target on retryable
 * errors before the client got anything, exponential backoff with jitter between attempts, a bound on
 * attempts and total time, per-key cooldown on 429, circuit breakers, fallback models.
 */
export class Dispatcher {
  readonly #counters = new Map<string, number>();

  constructor(private readonly deps: DispatcherDeps) {}

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
        }),
      );
    }
    return targets;
  }

  async run<T>(ledger: RequestLedger, client: ClientPresence, attempt: (a: Attempt) => Promise<T>): Promise<T> {
    const routing = this.deps.routing();
    const targets = this.plan(ledger, routing).slice(0, Math.max(1, routing.maxAttempts));
    if (targets.length === 0) throw this.noTarget(ledger);
    const random = this.deps.random ?? Math.random;
    const startedAt = this.deps.clock.now();
    let lastError: ApiError | undefined;
    let saturatedFor: number | null = null;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i] as Target;
      if (i > 0) {
        const backoff = Math.min(routing.backoffMaxMs, routing.backoffBaseMs * 2 ** (i - 1)) * (0.5 + random() / 2);
        if (this.deps.clock.now() - startedAt + backoff > routing.failoverDeadlineMs) break;
        if (!(await waitUnlessGone(client, backoff))) throw new ApiError('client_closed', 'Client closed the request');
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
      ledger.useTarget(channel, route.upstreamModel, target.model);
      const attemptStart = ledger.elapsedMs();
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
          headers: channel.options.headers ?? {},
          options: channel.options.provider ?? {},
        },
        upstreamStatus: null,
      };
      try {
        const value = await attempt(current);
        const ttft = ledger.ttftMs;
        health.succeed(
          this.deps.clock.now(),
          ttft !== null && ttft >= attemptStart ? ttft - attemptStart : Math.round(ledger.elapsedMs() - attemptStart),
        );
        return value;
      } catch (error) {
        if (client.gone) {
          // The client left: not the upstream's fault, and nothing more to do.
          health.release();
          if (error instanceof CommittedFailure) throw error;
          throw new ApiError('client_closed', 'Client closed the request');
        }
        // The request itself was refused (by the adapter, before anything was sent): the client's problem.
        if (error instanceof ApiError) {
          health.release();
          throw error;
        }
        const info = failureInfo(error, channel, deadlineHit);
        if (isClientError(info)) {
          // The upstream refused this request's content (400, 413, …): not the channel's fault.
          health.release();
        } else {
          const opened = health.fail(this.deps.clock.now(), info.message, this.deps.health.options);
          if (opened) this.deps.onBreakerOpen?.(channel, health.consecutiveOpens, info.message);
        }
        if (info.status === 429 && key.id)
          this.deps.health.coolKey(key.id, (info.retryAfterSeconds ?? routing.keyCooldownMs / 1000) * 1000, channel.id);
        if (info.code === 'upstream_auth_failed') this.deps.onAuthFailure?.(channel, info.message);
        if (error instanceof CommittedFailure) throw error;
        ledger.addAttempt(channel, info.status, current.upstreamStatus, info.message, attemptStart);
        lastError = apiErrorOf(info);
        if (!info.retryable) break;
      } finally {
        clearTimeout(timer);
        stopListening();
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
      if (!route.channel.active) continue;
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

/** A 4xx that says the request itself is wrong (not 408 timeout / 429 rate limit, which are the upstream's state). */
function isClientError(info: UpstreamErrorInfo): boolean {
  return (
    info.status >= 400 &&
    info.status < 500 &&
    info.status !== 408 &&
    info.status !== 429 &&
    info.code !== 'upstream_auth_failed'
  );
}

function failureInfo(error: unknown, channel: CatalogChannel, deadlineHit: boolean): UpstreamErrorInfo {
  if (error instanceof UpstreamFailure || error instanceof CommittedFailure) return error.info;
  if (isUpstreamStreamError(error)) return error.info;
  // Adapters' own errors that carry a mapped answer (e.g. UnsupportedRequestError: a 400 before sending).
  const info = (error as { info?: UpstreamErrorInfo } | null)?.info;
  if (info && typeof info.status === 'number' && typeof info.code === 'string') return info;
  if (error instanceof SyntaxError)
    return {
      status: 502,
      code: 'upstream_error',
      message: `Upstream ${channel.name} sent a malformed response`,
      retryable: true,
    };
  if (error instanceof ApiError)
    return { status: error.status, code: 'upstream_error', message: error.message, retryable: false };
  return transportErrorInfo(error, channel.name, deadlineHit);
}
