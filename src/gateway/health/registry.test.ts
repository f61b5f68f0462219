import { describe, expect, it } from 'vitest';
import { HealthRegistry, TargetHealth } from './registry.js';

const options = { failureThreshold: 3, windowMs: 60_000, cooldownMs: 30_000 };

describe('TargetHealth (circuit breaker)', () => {
  it('opens after N failures within the window, not when they are spread out', () => {
    const spread = new TargetHealth();
    for (const t of [0, 61_000, 122_000]) {
      spread.start(t);
      expect(spread.fail(t, 'x', options)).toBe(false);
    }
    expect(spread.state).toBe('closed');

    const h = new TargetHealth();
    h.start(0);
    h.fail(0, 'a', options);
    h.start(1);
    h.fail(1, 'b', options);
    h.start(2);
    expect(h.fail(2, 'c', options)).toBe(true);
    expect(h.state).toBe('open');
    expect(h.available(10_000)).toBe(false);
    expect(h.lastError).toBe('c');
  });

  it('lets exactly one trial through after the cooldown; success closes, failure re-opens', () => {
    const h = new TargetHealth();
    for (let i = 0; i < 3; i++) {
      h.start(i);
      h.fail(i, 'down', options);
    }
    expect(h.available(30_002)).toBe(true);
    h.start(30_002);
    expect(h.state).toBe('half_open');
    expect(h.available(30_003)).toBe(false);
    expect(h.fail(30_004, 'still down', options)).toBe(true);
    expect(h.state).toBe('open');
    expect(h.consecutiveOpens).toBe(2);

    h.start(60_005);
    h.succeed(60_006, 120);
    expect(h.state).toBe('closed');
    expect(h.consecutiveOpens).toBe(0);
    expect(h.available(60_007)).toBe(true);
  });

  it('keeps a moving average of latency, counts in-flight requests and the success rate', () => {
    const h = new TargetHealth();
    h.start(0);
    expect(h.inflight).toBe(1);
    h.succeed(0, 100);
    h.start(0);
    h.succeed(0, 200);
    expect(h.latencyMs).toBeCloseTo(130);
    h.start(0);
    h.fail(0, 'x', options);
    expect(h.inflight).toBe(0);
    expect(h.successRate).toBeCloseTo(2 / 3);
  });

  it('does not count a client disconnect against the upstream', () => {
    const h = new TargetHealth();
    h.start(0);
    h.release();
    expect(h.inflight).toBe(0);
    expect(h.successRate).toBeNull();
    expect(h.state).toBe('closed');
  });
});

describe('HealthRegistry', () => {
  it('summarises a channel across its models', () => {
    let now = 1_000;
    const registry = new HealthRegistry({ now: () => now }, options);
    expect(registry.summary('chn').status).toBe('unknown');
    const a = registry.target('chn', 'model-a');
    const b = registry.target('chn', 'model-b');
    a.start(now);
    a.succeed(now, 50);
    for (let i = 0; i < 3; i++) {
      b.start(now);
      b.fail(now, 'boom', options);
    }
    const summary = registry.summary('chn');
    expect(summary.status).toBe('degraded');
    expect(summary.latencyMs).toBe(50);
    expect(summary.successRate).toBeCloseTo(0.25);
    expect(summary.lastError).toBe('boom');
    registry.recordCheck('chn', { at: now, ok: true, latencyMs: 12, error: null });
    expect(registry.summary('chn').lastCheck).toEqual({ at: now, ok: true, latencyMs: 12, error: null });
    registry.resetChannel('chn');
    expect(registry.summary('chn').status).toBe('unknown');
    now += 1;
  });

  it('cools a key until its time passes', () => {
    const registry = new HealthRegistry({ now: () => 100 });
    registry.coolKey('k', 1000);
    expect(registry.keyAvailable('k', 500)).toBe(false);
    expect(registry.keyAvailable('k', 1100)).toBe(true);
  });
});
