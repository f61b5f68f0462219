import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type CounterStore, MemoryCounterStore } from './counters.js';
import { RedisCounterStore } from './redis-counters.js';
import { REDIS_CLIENT_OPTIONS } from './redis-options.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) console.warn('[skip] Redis counter tests skipped: set TEST_REDIS_URL=redis://… to run them');

const redis = REDIS_URL ? new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 }) : undefined;
const prefix = `aihub-test:${process.pid}:${Math.random().toString(36).slice(2)}:`;

afterAll(async () => {
  if (redis) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
});

const backends: Array<[string, () => CounterStore]> = [['memory', () => new MemoryCounterStore()]];
if (redis)
  backends.push(['redis', () => new RedisCounterStore(redis, `${prefix}${Math.random().toString(36).slice(2)}:`)]);

describe.each(backends)('CounterStore (%s)', (_name, make) => {
  it('reserves all or nothing across several counters', async () => {
    const store = make();
    expect(
      await store.reserve([
        { key: 'a', amount: 5, limit: 10, ttlMs: 60_000 },
        { key: 'b', amount: 5, limit: 6, ttlMs: 60_000 },
      ]),
    ).toBe(-1);
    expect(await store.get(['a', 'b'])).toEqual([5, 5]);
    // b is below its limit (5 < 6), so one more request is admitted even though it goes over.
    expect(
      await store.reserve([
        { key: 'a', amount: 3, limit: 10, ttlMs: 60_000 },
        { key: 'b', amount: 3, limit: 6, ttlMs: 60_000 },
      ]),
    ).toBe(-1);
    expect(
      await store.reserve([
        { key: 'a', amount: 1, limit: 10, ttlMs: 60_000 },
        { key: 'b', amount: 1, limit: 6, ttlMs: 60_000 },
      ]),
    ).toBe(1);
    expect(await store.get(['a', 'b'])).toEqual([8, 8]);
  });

  it('counts without a limit, adds negative amounts, and initialises only once', async () => {
    const store = make();
    expect(await store.reserve([{ key: 'c', amount: 7, limit: null, ttlMs: null }])).toBe(-1);
    await store.add('c', -2, null);
    expect(await store.get(['c', 'missing'])).toEqual([5, 0]);
    expect(await store.init('d', 42, 60_000)).toBe(true);
    expect(await store.init('d', 1, 60_000)).toBe(false);
    expect(await store.get(['d'])).toEqual([42]);
    expect(await store.exists('d')).toBe(true);
    expect(await store.exists('nope')).toBe(false);
  });

  it('applies several adds at once, positive and negative', async () => {
    const store = make();
    await store.add('x', 10, 60_000);
    await store.addAll([
      { key: 'x', amount: -4, ttlMs: 60_000 },
      { key: 'y', amount: 3, ttlMs: null },
      { key: 'z', amount: 0, ttlMs: null },
    ]);
    expect(await store.get(['x', 'y', 'z'])).toEqual([6, 3, 0]);
    expect(await store.exists('z')).toBe(false);
  });

  it('admits exactly `limit` concurrent unit reservations', async () => {
    const store = make();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => store.reserve([{ key: 'conc', amount: 1, limit: 10, ttlMs: 60_000 }])),
    );
    expect(results.filter((r) => r === -1)).toHaveLength(10);
    expect(await store.get(['conc'])).toEqual([10]);
  });

  it('takes from rate windows and reserves items all or nothing, reporting each window', async () => {
    const store = make();
    const rpm = (points = 1) => ({ key: 'w:rpm', points, limit: 2, windowMs: 60_000 });
    const tpm = (points: number) => ({ key: 'w:tpm', points, limit: 100, windowMs: 60_000 });
    const budget = (amount: number) => ({ key: 'budget', amount, limit: 10, ttlMs: 60_000 });

    const first = await store.take([rpm(), tpm(60)], [budget(4)]);
    expect(first.failed).toBe(-1);
    expect(first.windows.map((w) => w.used)).toEqual([1, 60]);
    for (const w of first.windows) {
      expect(w.resetMs).toBeGreaterThan(59_000);
      expect(w.resetMs).toBeLessThanOrEqual(60_000);
    }
    // 60 + 50 tokens would exceed the tpm window: refused, and nothing taken anywhere.
    const over = await store.take([rpm(), tpm(50)], [budget(4)]);
    expect(over.failed).toBe(1);
    expect(over.windows.map((w) => w.used)).toEqual([1, 60]);
    expect(await store.get(['w:rpm', 'w:tpm', 'budget'])).toEqual([1, 60, 4]);
    // A refusing reservation item is reported after the windows, and takes nothing from them.
    await store.add('budget', 6, 60_000);
    const broke = await store.take([rpm(), tpm(10)], [budget(1)]);
    expect(broke.failed).toBe(2);
    expect(await store.get(['w:rpm', 'w:tpm', 'budget'])).toEqual([1, 60, 10]);
    // Exactly up to the limit is allowed; one more is not.
    expect((await store.take([rpm(), tpm(40)], [])).failed).toBe(-1);
    const full = await store.take([rpm()], []);
    expect(full.failed).toBe(0);
    expect(full.windows[0]?.used).toBe(2);
    // A window nobody took from yet reports its whole length.
    const fresh = await store.take([{ key: 'w:other', points: 0, limit: 1, windowMs: 5_000 }], []);
    expect(fresh.windows[0]).toEqual({ used: 0, resetMs: 5_000 });
  });

  it('starts a new window when the last one ends', async () => {
    const store = make();
    const w = { key: 'short-window', points: 1, limit: 1, windowMs: 60 };
    expect((await store.take([w], [])).failed).toBe(-1);
    expect((await store.take([w], [])).failed).toBe(0);
    await new Promise((r) => setTimeout(r, 120));
    expect((await store.take([w], [])).failed).toBe(-1);
  });

  it('changes a counter marked ifExists only while it exists', async () => {
    const store = make();
    await store.take([{ key: 'win', points: 30, limit: 100, windowMs: 60_000 }], []);
    await store.addAll([
      { key: 'win', amount: -10, ttlMs: null, ifExists: true },
      { key: 'gone', amount: -10, ttlMs: null, ifExists: true },
    ]);
    expect(await store.get(['win', 'gone'])).toEqual([20, 0]);
    expect(await store.exists('gone')).toBe(false);
  });

  it('raises a counter to a value, never lowering it, keeping its lifetime', async () => {
    const store = make();
    await store.add('r', 10, 50);
    await store.raise('r', 4, 60_000);
    expect(await store.get(['r'])).toEqual([10]);
    await store.raise('r', 25, 60_000);
    expect(await store.get(['r'])).toEqual([25]);
    await store.raise('fresh', 7, 60_000);
    expect(await store.get(['fresh'])).toEqual([7]);
    // 'r' keeps the 50 ms it was created with.
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.get(['r', 'fresh'])).toEqual([0, 7]);
  });

  it('forgets counters after their lifetime', async () => {
    const store = make();
    await store.add('short', 3, 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.get(['short'])).toEqual([0]);
  });
});

describe.runIf(redis)('RedisCounterStore scripts', () => {
  it('are sent by SHA, and reloaded when Redis has forgotten them (SCRIPT FLUSH, a restart)', async () => {
    const client = redis as Redis;
    // The same options as the server's client (auto-pipelining on).
    const pipelined = new Redis(REDIS_URL as string, REDIS_CLIENT_OPTIONS);
    try {
      const store = new RedisCounterStore(pipelined, `${prefix}sha:`);
      // A second store on the same client reuses the commands.
      const again = new RedisCounterStore(pipelined, `${prefix}sha:`);
      expect(await store.reserve([{ key: 'x', amount: 2, limit: 10, ttlMs: 60_000 }])).toBe(-1);
      await client.script('FLUSH');
      expect(await again.reserve([{ key: 'x', amount: 3, limit: 10, ttlMs: 60_000 }])).toBe(-1);
      await client.script('FLUSH');
      await store.add('x', 4, 60_000);
      // Several operations in one tick go out in one pipeline and each gets its own answer.
      const results = await Promise.all([
        store.reserve([{ key: 'y', amount: 1, limit: 1, ttlMs: 60_000 }]),
        store.reserve([{ key: 'y', amount: 1, limit: 1, ttlMs: 60_000 }]),
        store.get(['x']),
      ]);
      expect(results).toEqual([-1, 0, [9]]);
    } finally {
      pipelined.disconnect();
    }
  });
});
