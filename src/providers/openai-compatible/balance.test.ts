import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UpstreamTarget } from '../types.js';
import { balanceKind, compatibleBalance } from './balance.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/accounts/${name}`, import.meta.url), 'utf8'));

const target = (baseUrl: string, options: Record<string, string> = {}): UpstreamTarget => ({
  baseUrl,
  apiKey: 'sk-test',
  upstreamModel: '',
  headers: { 'X-Team': 'a' },
  options,
});

const NOW = Date.UTC(2026, 11, 7);

describe('OpenAI-compatible balance', () => {
  it('picks the API by host unless the channel names one', () => {
    expect(balanceKind(target('https://api.deepseek.com/v1'))).toBe('deepseek');
    expect(balanceKind(target('https://openrouter.ai/api/v1'))).toBe('openrouter');
    expect(balanceKind(target('https://reseller.example/v1'))).toBe('new-api');
    expect(balanceKind(target('https://api.deepseek.com', { balanceApi: 'none' }))).toBe('none');
    expect(compatibleBalance.buildRequests(target('https://x.example', { balanceApi: 'none' }), NOW)).toBeNull();
  });

  it("DeepSeek: GET /user/balance at the root, the first currency's total", () => {
    const t = target('https://api.deepseek.com/v1');
    const [request] = compatibleBalance.buildRequests(t, NOW) ?? [];
    expect(request).toMatchObject({ method: 'GET', url: 'https://api.deepseek.com/user/balance' });
    expect(request?.headers).toMatchObject({ Authorization: 'Bearer sk-test', 'X-Team': 'a' });
    expect(compatibleBalance.parse([fixture('deepseek-balance.json')], t)).toEqual({
      currency: 'CNY',
      remainingMicros: 110_000_000,
      usedMicros: null,
      limitMicros: null,
    });
  });

  it('OpenRouter: credits minus usage', () => {
    const t = target('https://openrouter.ai/api/v1');
    expect(compatibleBalance.buildRequests(t, NOW)?.[0]?.url).toBe('https://openrouter.ai/api/v1/credits');
    expect(compatibleBalance.parse([fixture('openrouter-credits.json')], t)).toEqual({
      currency: 'USD',
      remainingMicros: 74_750_000,
      usedMicros: 25_750_000,
      limitMicros: 100_500_000,
    });
  });

  it('New API / One API: the hard limit minus the usage in cents over the last 100 days', () => {
    const t = target('https://reseller.example/v1');
    const requests = compatibleBalance.buildRequests(t, NOW) ?? [];
    expect(requests.map((r) => r.url)).toEqual([
      'https://reseller.example/v1/dashboard/billing/subscription',
      'https://reseller.example/v1/dashboard/billing/usage?start_date=2026-08-30&end_date=2026-12-08',
    ]);
    expect(compatibleBalance.parse([fixture('new-api-subscription.json'), fixture('new-api-usage.json')], t)).toEqual({
      currency: 'USD',
      remainingMicros: 37_655_000,
      usedMicros: 12_345_000,
      limitMicros: 50_000_000,
    });
  });

  it('reads nothing from malformed answers rather than failing', () => {
    expect(compatibleBalance.parse([{ nope: true }], target('https://api.deepseek.com'))).toEqual({
      currency: 'USD',
      remainingMicros: null,
      usedMicros: null,
      limitMicros: null,
    });
    expect(compatibleBalance.parse([null, 'x'], target('https://r.example')).remainingMicros).toBeNull();
  });
});
