/**
 * The dispatch loop's policies without HTTP: failover on retryable failures only, the failover deadline,
 * a refused request never fails over, 429 rests the key, and channels at their provider rate limit are
 * skipped (saturation) with a Retry-After when every one is.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../core/errors.js';
import { MemoryCounterStore } from '../../infra/state/counters.js';
import type { UpstreamErrorInfo } from '../../providers/types.js';
import type { Catalog, CatalogChannel, CatalogModel } from '../catalog.js';
import type { ClientPresence } from '../client-stream.js';
import { HealthRegistry } from '../health/registry.js';
import type { UsageSink } from '../ports.js';
import { type Attempt, DEFAULT_ROUTING, Dispatcher, type RoutingSettings } from './dispatch.js';
import { UpstreamFailure } from './failure.js';
import { RequestLedger } from './ledger.js';

class Clock {
  time = 1_000_000;
  now(): number {
    return this.time;
  }
}

const sink: UsageSink = {
  expect: () => undefined,
  fulfil: () => undefined,
  track: () => undefined,
  record: () => undefined,
};

function channel(id: string, extra: Partial<CatalogChannel> = {}): CatalogChannel {
  return {
    id,
    name: id,
    type: 'keyed',
    adapter: { key: 'required' } as CatalogChannel['adapter'],
    baseUrl: 'http://x',
    active: true,
    disabledReason: null,
    options: {},
    groups: ['default'],
    timeouts: { connectMs: 1000, firstByteMs: 1000, idleMs: 1000, totalMs: 60_000 },
    priority: 0,
    weight: 1,
    keys: [{ id: `${id}-k1`, secret: `${id}-secret` }],
    keyCursor: 0,
    ...extra,
  };
}

function modelOf(channels: CatalogChannel[]): CatalogModel {
  return {
    id: 'mdl_1',
    name: 'm',
    active: true,
    batchDiscountPercent: 0,
    prices: { input: 0, output: 0, cachedInput: null },
    contextWindow: null,
    maxOutputTokens: null,
    capabilities: [],
    createdAt: 0,
    strategy: 'round_robin',
    fallbacks: [],
    cacheTtlMs: null,
    promptOverhead: { perRequest: 0, perMessage: 0, withTools: 0 },
    // Priorities keep the order fixed: a first, then b, then c.
    routes: channels.map((c, i) => ({ channel: c, upstreamModel: 'up', priority: -i, weight: 1 })),
  };
}

const present: ClientPresence = { gone: false, onGone: () => () => undefined };

function setup(channels: CatalogChannel[], routing: Partial<RoutingSettings> = {}, counters?: MemoryCounterStore) {
  const clock = new Clock();
  const health = new HealthRegistry(clock);
  const model = modelOf(channels);
  const catalog = { getModel: () => undefined } as unknown as Catalog;
  const dispatcher = new Dispatcher({
    catalog,
    health,
    clock,
    random: () => 0,
    counters,
    routing: () => ({ ...DEFAULT_ROUTING, backoffBaseMs: 1, backoffMaxMs: 1, ...routing }),
  });
  const ledger = () =>
    new RequestLedger(
      {
        requestId: 'req_1',
        caller: {
          keyId: null,
          userId: null,
          orgId: null,
          teamId: null,
          allowedModels: null,
          modelLimits: [],
          channelLimits: [],
          allowedIps: null,
          keyLimits: null,
          responseCache: false,
        },
        model,
        endpoint: 'chat',
        stream: false,
        clientIp: '127.0.0.1',
      },
      sink,
      clock,
    );
  return { clock, health, dispatcher, ledger };
}

/** An endpoint whose attempts answer from a script, one entry per channel id. */
function scripted(script: Record<string, UpstreamErrorInfo | Error | 'ok'>) {
  const tried: string[] = [];
  return {
    tried,
    attempt(_x: unknown, a: Attempt): Promise<string> {
      const id = a.target.channel.id;
      tried.push(id);
      const outcome = script[id];
      if (outcome === 'ok') return Promise.resolve(id);
      if (outcome instanceof Error) return Promise.reject(outcome);
      return Promise.reject(new UpstreamFailure(outcome as UpstreamErrorInfo));
    },
  };
}

const overloaded: UpstreamErrorInfo = { status: 503, code: 'upstream_error', message: 'overloaded', retryable: true };
const rejected: UpstreamErrorInfo = { status: 400, code: 'bad_request', message: 'bad input', retryable: false };

describe('Dispatcher.run', () => {
  it('fails over to the next target on a retryable failure, and records the failed attempt', async () => {
    const { dispatcher, ledger } = setup([channel('a'), channel('b')]);
    const unit = scripted({ a: overloaded, b: 'ok' });
    const l = ledger();
    await expect(dispatcher.run({ ledger: l, client: present }, unit)).resolves.toBe('b');
    expect(unit.tried).toEqual(['a', 'b']);
    expect(l.attempts.map((a) => [a.channelId, a.status])).toEqual([['a', 503]]);
  });

  it('stops at a failure that is not retryable, with its status', async () => {
    const { dispatcher, ledger } = setup([channel('a'), channel('b')]);
    const unit = scripted({ a: rejected, b: 'ok' });
    const error = await dispatcher.run({ ledger: ledger(), client: present }, unit).catch((e: unknown) => e);
    expect(unit.tried).toEqual(['a']);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it('never fails over a request the adapter refused (an ApiError before sending)', async () => {
    const { dispatcher, ledger, health } = setup([channel('a'), channel('b')]);
    const unit = scripted({ a: new ApiError('bad_request', 'cannot express this'), b: 'ok' });
    await expect(dispatcher.run({ ledger: ledger(), client: present }, unit)).rejects.toMatchObject({
      code: 'bad_request',
    });
    expect(unit.tried).toEqual(['a']);
    expect(health.target('a', 'up').inflight).toBe(0);
  });

  it('starts no attempt past the failover deadline (backoff included)', async () => {
    const { dispatcher, ledger } = setup([channel('a'), channel('b')], { failoverDeadlineMs: 0 });
    const unit = scripted({ a: overloaded, b: 'ok' });
    await expect(dispatcher.run({ ledger: ledger(), client: present }, unit)).rejects.toMatchObject({ status: 503 });
    expect(unit.tried).toEqual(['a']);
  });

  it('makes at most maxAttempts attempts', async () => {
    const { dispatcher, ledger } = setup([channel('a'), channel('b'), channel('c')], { maxAttempts: 2 });
    const unit = scripted({ a: overloaded, b: overloaded, c: 'ok' });
    await expect(dispatcher.run({ ledger: ledger(), client: present }, unit)).rejects.toMatchObject({ status: 503 });
    expect(unit.tried).toEqual(['a', 'b']);
  });

  it('rests a key after a 429 for its Retry-After', async () => {
    const { dispatcher, ledger, health, clock } = setup([channel('a'), channel('b')]);
    const limited: UpstreamErrorInfo = { ...overloaded, status: 429, retryAfterSeconds: 7 };
    await dispatcher.run({ ledger: ledger(), client: present }, scripted({ a: limited, b: 'ok' }));
    expect(health.keyRestRemaining('a-k1', clock.now())).toBe(7000);
  });

  it('skips a channel at its provider rate limit, and answers 429 with Retry-After when all are', async () => {
    const clock = new Clock();
    const counters = new MemoryCounterStore(() => clock.now());
    const limited = channel('a', { options: { limits: { rpm: 1 } } });
    const { dispatcher, ledger } = setup([limited, channel('b', { options: { limits: { rpm: 1 } } })], {}, counters);
    const first = scripted({ a: 'ok', b: 'ok' });
    await dispatcher.run({ ledger: ledger(), client: present }, first);
    const second = scripted({ a: 'ok', b: 'ok' });
    await dispatcher.run({ ledger: ledger(), client: present }, second);
    expect([first.tried, second.tried]).toEqual([['a'], ['b']]);
    const third = scripted({ a: 'ok', b: 'ok' });
    const error = await dispatcher.run({ ledger: ledger(), client: present }, third).catch((e: unknown) => e);
    expect(third.tried).toEqual([]);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect((error as ApiError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('gives up when the client leaves during the backoff', async () => {
    const { dispatcher, ledger } = setup([channel('a'), channel('b')], { backoffBaseMs: 10_000, backoffMaxMs: 10_000 });
    let leave: (() => void) | undefined;
    const client: ClientPresence & { left: boolean } = {
      left: false,
      get gone() {
        return this.left;
      },
      onGone(listener) {
        leave = listener;
        return () => undefined;
      },
    };
    const unit = {
      attempt(_x: unknown, a: Attempt): Promise<string> {
        // The first attempt fails; the client leaves as the backoff starts.
        setTimeout(() => {
          client.left = true;
          leave?.();
        }, 5);
        return Promise.reject(new UpstreamFailure({ ...overloaded, message: a.target.channel.id }));
      },
    };
    await expect(dispatcher.run({ ledger: ledger(), client }, unit)).rejects.toMatchObject({ code: 'client_closed' });
  });
});
