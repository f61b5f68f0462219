import { describe, expect, it } from 'vitest';
import { BillingDirectory, listPrice, PPM_ONE } from './pricing.js';

describe('listPrice', () => {
  it('multiplies in integers, rounding half up', () => {
    expect(listPrice(1_000, 1_250_000)).toBe(1_250);
    expect(listPrice(3, 1_500_000)).toBe(5); // 4.5 → 5
    expect(listPrice(3, 1_499_999)).toBe(4);
    expect(listPrice(7, PPM_ONE)).toBe(7);
    expect(listPrice(0, 3_000_000)).toBe(0);
    expect(listPrice(100, 0)).toBe(0);
  });

  it('stays exact beyond the range a double multiplies exactly', () => {
    // 9e12 micro-units × 1.000001: the float product would lose the last digits.
    expect(listPrice(9_000_000_000_000, 1_000_001)).toBe(9_000_009_000_000);
  });
});

describe('BillingDirectory', () => {
  it("applies the team's multiplier over the organization's, else 1", () => {
    const d = new BillingDirectory();
    d.replace({
      orgs: new Map([['org_a', 2_000_000]]),
      teams: new Map([['team_a', 500_000]]),
      prepaid: new Set(['org_a']),
    });
    expect(d.multiplier('org_a', 'team_a')).toBe(500_000);
    expect(d.multiplier('org_a', 'team_b')).toBe(2_000_000);
    expect(d.multiplier('org_a', null)).toBe(2_000_000);
    expect(d.multiplier('org_b', null)).toBe(PPM_ONE);
    expect(d.multiplier(null, null)).toBe(PPM_ONE);
    expect(d.isPrepaid('org_a')).toBe(true);
    expect(d.isPrepaid('org_b')).toBe(false);
    expect(d.isPrepaid(null)).toBe(false);
  });
});
