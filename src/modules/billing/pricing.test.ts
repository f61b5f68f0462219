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

describe('pricing groups', () => {
  const row = (org: string | null, team: string | null, model: string) => ({
    org_id: org,
    team_id: team,
    model,
    cost_micros: 1_000,
    prompt_tokens: 1_000_000,
    completion_tokens: 500_000,
    cached_tokens: 0,
  });
  const directory = () => {
    const d = new BillingDirectory();
    d.replace({
      orgs: new Map([['org_own', 3_000_000]]),
      teams: new Map([['team_own', 4_000_000]]),
      prepaid: new Set(),
      groups: new Map([
        [
          'prg_1',
          {
            ppm: 2_000_000,
            overrides: new Map([
              ['cheap', { model: 'cheap', multiplierPpm: 500_000 }],
              ['fixed', { model: 'fixed', inputPrice: 2_000_000, outputPrice: 4_000_000, cachedInputPrice: null }],
            ]),
          },
        ],
      ]),
      orgGroups: new Map([
        ['org_g', 'prg_1'],
        ['org_own', 'prg_1'],
      ]),
      teamGroups: new Map([['team_g', 'prg_1']]),
    });
    return d;
  };

  it("prices by the group's multiplier, its per-model multiplier, and its fixed per-model price", () => {
    const d = directory();
    expect(d.priceOf(row('org_g', null, 'other'))).toBe(2_000);
    expect(d.priceOf(row('org_g', null, 'cheap'))).toBe(500);
    // 1M input tokens at 2 units, 0.5M output at 4 units: 4 units, whatever the cost.
    expect(d.priceOf(row('org_g', null, 'fixed'))).toBe(4_000_000);
    expect(d.multiplier('org_g', null)).toBe(2_000_000);
  });

  it("lets a level's own multiplier beat its group's multiplier, but not the group's model override", () => {
    const d = directory();
    expect(d.priceOf(row('org_own', null, 'other'))).toBe(3_000);
    expect(d.priceOf(row('org_own', null, 'cheap'))).toBe(500);
  });

  it('prices a team with its own group or multiplier by the team, other teams by the organization', () => {
    const d = directory();
    expect(d.priceOf(row('org_plain', 'team_g', 'cheap'))).toBe(500);
    expect(d.priceOf(row('org_g', 'team_own', 'cheap'))).toBe(4_000);
    expect(d.priceOf(row('org_g', 'team_plain', 'cheap'))).toBe(500);
    expect(d.priceOf(row('org_plain', 'team_plain', 'cheap'))).toBe(1_000);
    expect(d.priceOf(row(null, null, 'cheap'))).toBe(1_000);
  });
});
