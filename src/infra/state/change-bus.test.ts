import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type Change, parseChange, RedisChangeBus } from './change-bus.js';
import { REDIS_CLIENT_OPTIONS } from './redis-options.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) console.warn('[skip] Redis change bus tests skipped: set TEST_REDIS_URL=redis://… to run them');

describe('parseChange', () => {
  it('takes the changes it knows and nothing else', () => {
    expect(parseChange('{"from":"a","kind":"limits"}')).toEqual({ from: 'a', change: { kind: 'limits' } });
    expect(parseChange('{"from":"a","kind":"key","id":"key_1"}')).toEqual({
      from: 'a',
      change: { kind: 'key', id: 'key_1' },
    });
    for (const bad of [
      'not json',
      'null',
      '"limits"',
      '{"kind":"limits"}',
      '{"from":"a","kind":"everything"}',
      '{"from":"a","kind":"key"}',
      '{"from":"a","kind":"user","id":""}',
      '{"from":"a","kind":"team","id":7}',
    ])
      expect(parseChange(bad), bad).toBeUndefined();
  });
});

describe.runIf(REDIS_URL)('RedisChangeBus', () => {
  const redis = REDIS_URL ? new Redis(REDIS_URL, REDIS_CLIENT_OPTIONS) : undefined;
  const prefix = `aihub-test:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  afterAll(() => redis?.disconnect());

  const next = (bus: RedisChangeBus) =>
    new Promise<Change>((resolve) => {
      bus.onRemote(resolve);
    });

  it("delivers one instance's changes to the others, not back to itself, and skips garbage", async () => {
    const client = redis as Redis;
    const one = new RedisChangeBus(client, prefix);
    const two = new RedisChangeBus(client, prefix);
    const elsewhere = new RedisChangeBus(client, `${prefix}-other`);
    try {
      await Promise.all([one.start(), two.start(), elsewhere.start()]);
      const seenByOne: Change[] = [];
      const seenElsewhere: Change[] = [];
      one.onRemote((change) => seenByOne.push(change));
      elsewhere.onRemote((change) => seenElsewhere.push(change));
      const received = next(two);
      await client.publish(`${prefix}:changes`, 'garbage');
      one.publish({ kind: 'key', id: 'key_9' });
      expect(await received).toEqual({ kind: 'key', id: 'key_9' });
      // The garbage went first and was skipped; the sender did not hear itself; another prefix heard nothing.
      const back = next(one);
      two.publish({ kind: 'settings' });
      expect(await back).toEqual({ kind: 'settings' });
      expect(seenByOne).toEqual([{ kind: 'settings' }]);
      expect(seenElsewhere).toEqual([]);
    } finally {
      await Promise.all([one.close(), two.close(), elsewhere.close()]);
    }
  });

  it('reports a listener that fails, and goes on delivering', async () => {
    const client = redis as Redis;
    const sender = new RedisChangeBus(client, prefix);
    const receiver = new RedisChangeBus(client, prefix);
    const errors: unknown[] = [];
    receiver.reportErrorsTo((error) => errors.push(error));
    try {
      await receiver.start();
      receiver.onRemote(() => Promise.reject(new Error('reload failed')));
      const received = next(receiver);
      sender.publish({ kind: 'catalog' });
      expect(await received).toEqual({ kind: 'catalog' });
      await new Promise((r) => setTimeout(r, 20));
      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toBe('reload failed');
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });
});
