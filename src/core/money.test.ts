import { describe, expect, it } from 'vitest';
import { MICROS_PER_USD, microsToUsd, tokenCost, usdToMicros } from './money.js';

describe('money', () => {
  it('counts one US dollar as 1,000,000 micro-USD', () => {
    expect(MICROS_PER_USD).toBe(1_000_000);
    expect(usdToMicros(1)).toBe(1_000_000);
    expect(microsToUsd(2_500_000)).toBe(2.5);
  });

  it('converts dollars to whole micro-USD without float drift', () => {
    expect(usdToMicros(0.1 + 0.2)).toBe(300_000);
    expect(usdToMicros(19.99)).toBe(19_990_000);
    expect(usdToMicros(0.0000004)).toBe(0);
    expect(usdToMicros(0.0000005)).toBe(1);
    expect(Number.isInteger(usdToMicros(123.456789))).toBe(true);
    expect(microsToUsd(usdToMicros(42.123456))).toBe(42.123456);
  });

  it('prices tokens per million, rounding any fraction of a micro-USD up', () => {
    // $3 per 1M tokens = 3,000,000 micro-USD per 1M tokens = 3 micro-USD per token.
    expect(tokenCost(1_000_000, 3_000_000)).toBe(3_000_000);
    expect(tokenCost(1, 3_000_000)).toBe(3);
    expect(tokenCost(1, 150_000)).toBe(1); // 0.15 µUSD → 1
    expect(tokenCost(7, 150_000)).toBe(2); // 1.05 µUSD → 2
    expect(tokenCost(20, 150_000)).toBe(3); // exactly 3, not rounded further
    expect(Number.isInteger(tokenCost(12_345, 2_500_000))).toBe(true);
  });

  it('charges nothing for no tokens or a free price', () => {
    expect(tokenCost(0, 3_000_000)).toBe(0);
    expect(tokenCost(-5, 3_000_000)).toBe(0);
    expect(tokenCost(1000, 0)).toBe(0);
    expect(tokenCost(1000, -1)).toBe(0);
  });
});
