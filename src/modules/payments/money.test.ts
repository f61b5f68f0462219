import { describe, expect, it } from 'vitest';
import { fromStripeAmount, microsPerMinorUnit, sameCurrency, toStripeAmount } from './money.js';

describe('Stripe amounts and micro-units', () => {
  it('converts two-, zero- and three-decimal currencies', () => {
    expect(microsPerMinorUnit('usd')).toBe(10_000);
    expect(fromStripeAmount(1234, 'usd')).toBe(12_340_000);
    expect(toStripeAmount(12_340_000, 'USD')).toBe(1234);
    expect(fromStripeAmount(500, 'jpy')).toBe(500_000_000);
    expect(toStripeAmount(500_000_000, 'JPY')).toBe(500);
    expect(fromStripeAmount(1500, 'kwd')).toBe(1_500_000);
  });

  it('refuses an amount finer than the smallest unit', () => {
    expect(toStripeAmount(12_345, 'USD')).toBeUndefined();
    expect(toStripeAmount(1_500_000, 'JPY')).toBeUndefined();
  });

  it("compares Stripe's lower-case currency with the instance's", () => {
    expect(sameCurrency('usd', 'USD')).toBe(true);
    expect(sameCurrency('eur', 'USD')).toBe(false);
    expect(sameCurrency(null, 'USD')).toBe(false);
  });
});
