import { describe, expect, it } from 'vitest';
import type { CatalogChannel, CatalogModel, CatalogRoute } from '../catalog.js';
import { HealthRegistry } from '../health/registry.js';
import { channelAllowed, modelReachable, nextKey, orderTargets } from './route.js';

function channel(id: string, extra: Partial<CatalogChannel> = {}): CatalogChannel {
  return {
    id,
    name: id,
    type: 'keyed',
    // Only the key requirement matters to routing.
    adapter: { key: 'required' } as CatalogChannel['adapter'],
    baseUrl: 'http://x',
    active: true,
    disabledReason: null,
    options: {},
    groups: ['default'],
    timeouts: { connectMs: 1, firstByteMs: 1, idleMs: 1, totalMs: 1 },
    priority: 0,
    weight: 1,
    keys: [{ id: `${id}-k1`, secret: `${id}-secret-1` }],
    keyCursor: 0,
    ...extra,
  };
}

function model(routes: Array<Partial<CatalogRoute> & { channel: CatalogChannel }>): CatalogModel {
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
    strategy: null,
    fallbacks: [],
    cacheTtlMs: null,
    promptOverhead: { perRequest: 0, perMessage: 0, withTools: 0 },
    routes: routes.map((r) => ({ upstreamModel: 'up', priority: 0, weight: 1, ...r })),
  };
}

/** A deterministic pseudo-random sequence (LCG), so distribution tests cannot flake. */
function seeded(seed = 42): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 4294967296;
    return state / 4294967296;
  };
}

const ids = (targets: Array<{ channel: { id: string } }>) => targets.map((t) => t.channel.id);

describe('orderTargets', () => {
  it('tries higher priority groups first', () => {
    const m = model([
      { channel: channel('low'), priority: 0 },
      { channel: channel('high'), priority: 10 },
    ]);
    expect(ids(orderTargets(m, { strategy: 'weighted', now: 0, random: seeded() }))).toEqual(['high', 'low']);
  });

  it('spreads traffic by weight within a group (3:1 within 3 percentage points over 20k picks)', () => {
    const m = model([
      { channel: channel('a'), weight: 3 },
      { channel: channel('b'), weight: 1 },
    ]);
    const random = seeded(7);
    let a = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++)
      if (orderTargets(m, { strategy: 'weighted', now: 0, random })[0]?.channel.id === 'a') a++;
    expect(a / n).toBeGreaterThan(0.72);
    expect(a / n).toBeLessThan(0.78);
  });

  it('never picks a zero-weight route first while another has weight, but keeps it for failover', () => {
    const m = model([
      { channel: channel('zero'), weight: 0 },
      { channel: channel('one'), weight: 1 },
    ]);
    const random = seeded(3);
    for (let i = 0; i < 200; i++)
      expect(ids(orderTargets(m, { strategy: 'weighted', now: 0, random }))).toEqual(['one', 'zero']);
  });

  it('rotates in turn with round_robin', () => {
    const m = model([{ channel: channel('a') }, { channel: channel('b') }, { channel: channel('c') }]);
    const counters = new Map<string, number>();
    const firsts = [0, 1, 2, 3].map(
      () => orderTargets(m, { strategy: 'round_robin', now: 0, counters })[0]?.channel.id,
    );
    expect(firsts).toEqual(['a', 'b', 'c', 'a']);
  });

  it('prefers the lowest measured latency, and unmeasured targets before measured ones', () => {
    const health = new HealthRegistry({ now: () => 0 });
    const m = model([{ channel: channel('slow') }, { channel: channel('fast') }, { channel: channel('new') }]);
    health.target('slow', 'up').succeed(0, 900);
    health.target('fast', 'up').succeed(0, 100);
    expect(ids(orderTargets(m, { strategy: 'lowest_latency', now: 0, health, random: seeded() }))).toEqual([
      'new',
      'fast',
      'slow',
    ]);
  });

  it('prefers the target with the fewest requests in flight', () => {
    const health = new HealthRegistry({ now: () => 0 });
    const m = model([{ channel: channel('busy') }, { channel: channel('idle') }]);
    health.target('busy', 'up').start(0);
    health.target('busy', 'up').start(0);
    health.target('idle', 'up').start(0);
    expect(ids(orderTargets(m, { strategy: 'least_inflight', now: 0, health, random: seeded() }))).toEqual([
      'idle',
      'busy',
    ]);
  });

  it('skips disabled channels and channels without a key, and puts open breakers last', () => {
    const health = new HealthRegistry({ now: () => 0 }, { failureThreshold: 1, cooldownMs: 10_000, windowMs: 60_000 });
    const m = model([
      { channel: channel('tripped'), priority: 10 },
      { channel: channel('off', { active: false }), priority: 10 },
      { channel: channel('keyless', { keys: [] }), priority: 10 },
      { channel: channel('ok'), priority: 0 },
    ]);
    health.target('tripped', 'up').start(0);
    health.target('tripped', 'up').fail(0, 'boom', health.options);
    expect(ids(orderTargets(m, { strategy: 'weighted', now: 1, health, random: seeded() }))).toEqual(['ok', 'tripped']);
    // After the cooldown the breaker lets a trial through, in its normal place.
    expect(ids(orderTargets(m, { strategy: 'weighted', now: 10_001, health, random: seeded() }))).toEqual([
      'tripped',
      'ok',
    ]);
  });

  it('treats a channel whose keys are all cooling down as unusable', () => {
    const health = new HealthRegistry({ now: () => 0 });
    const m = model([{ channel: channel('a') }]);
    health.coolKey('a-k1', 5_000);
    expect(orderTargets(m, { strategy: 'weighted', now: 1000, health })).toEqual([]);
    expect(ids(orderTargets(m, { strategy: 'weighted', now: 6000, health }))).toEqual(['a']);
  });
});

describe('nextKey', () => {
  it('uses the pool in turn and skips a key cooling down after a 429', () => {
    const health = new HealthRegistry({ now: () => 0 });
    const c = channel('c', {
      keys: [
        { id: 'k1', secret: 's1' },
        { id: 'k2', secret: 's2' },
        { id: 'k3', secret: 's3' },
      ],
    });
    expect(
      [nextKey(c, health, 0), nextKey(c, health, 0), nextKey(c, health, 0), nextKey(c, health, 0)].map((k) => k.secret),
    ).toEqual(['s1', 's2', 's3', 's1']);
    health.coolKey('k2', 1000);
    expect([nextKey(c, health, 10), nextKey(c, health, 10), nextKey(c, health, 10)].map((k) => k.secret)).toEqual([
      's3',
      's1',
      's3',
    ]);
  });

  it('gives an empty key for keyless channels', () => {
    expect(nextKey(channel('local', { keys: [] }))).toEqual({ id: null, secret: '' });
  });
});

describe('channel groups', () => {
  const vip = channel('vip', { groups: ['vip'], priority: 0 });
  const shared = channel('shared', { groups: ['default', 'vip'] });
  const plain = channel('plain', { groups: ['default'] });

  it('routes a caller limited to groups only to channels of each of its lists', () => {
    const m = model([
      { channel: plain, priority: 10 },
      { channel: vip, priority: 0 },
      { channel: shared, priority: 5 },
    ]);
    const ctx = { strategy: 'weighted' as const, now: 0, random: seeded() };
    expect(ids(orderTargets(m, ctx))).toEqual(['plain', 'shared', 'vip']);
    expect(ids(orderTargets(m, { ...ctx, channelLimits: [['vip']] }))).toEqual(['shared', 'vip']);
    // Organization: vip or default; team: default only — a channel must satisfy both.
    expect(ids(orderTargets(m, { ...ctx, channelLimits: [['vip', 'default'], ['default']] }))).toEqual([
      'plain',
      'shared',
    ]);
    expect(orderTargets(m, { ...ctx, channelLimits: [['gold']] })).toEqual([]);
  });

  it('calls a model reachable when one of its routes or its fallbacks’ routes is in the groups', () => {
    const primary = { ...model([{ channel: plain }]), name: 'primary', fallbacks: ['backup'] };
    const backup = { ...model([{ channel: vip }]), name: 'backup' };
    const lookup = (name: string) => (name === 'backup' ? backup : undefined);
    expect(modelReachable(primary, [], lookup)).toBe(true);
    expect(modelReachable(primary, [['default']], lookup)).toBe(true);
    expect(modelReachable(primary, [['vip']], lookup)).toBe(true);
    expect(modelReachable(primary, [['gold']], lookup)).toBe(false);
    expect(modelReachable({ ...primary, fallbacks: [] }, [['vip']], lookup)).toBe(false);
    expect(channelAllowed(shared, [['vip'], ['default']])).toBe(true);
    expect(channelAllowed(vip, [['vip'], ['default']])).toBe(false);
  });
});
