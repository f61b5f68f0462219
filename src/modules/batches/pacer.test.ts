import { describe, expect, it } from 'vitest';
import { Pacer } from './pacer.js';

describe('Pacer', () => {
  it('lets through at most the rate per second, and refills with time', () => {
    let now = 0;
    const pacer = new Pacer(() => 4, { now: () => now });
    expect(pacer.reserve()).toBe(0);
    expect(pacer.reserve()).toBe(250);
    now += 250;
    expect(pacer.reserve()).toBe(0);
    expect(pacer.reserve()).toBeGreaterThan(0);
    now += 10_000;
    // A long pause banks one second's worth, not more.
    for (let i = 0; i < 4; i++) expect(pacer.reserve()).toBe(0);
    expect(pacer.reserve()).toBeGreaterThan(0);
  });

  it('take waits as long as reserve says', async () => {
    let now = 0;
    const waits: number[] = [];
    const pacer = new Pacer(
      () => 2,
      { now: () => now },
      async (ms) => {
        waits.push(ms);
        now += ms;
      },
    );
    await pacer.take();
    await pacer.take();
    await pacer.take();
    expect(waits).toEqual([500, 500]);
  });
});
