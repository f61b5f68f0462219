import { describe, expect, it } from 'vitest';
import { normaliseUsage } from './usage.js';

describe('normaliseUsage', () => {
  it('fills total_tokens and keeps provider extras', () => {
    expect(normaliseUsage({ prompt_tokens: 2, completion_tokens: 3, cost: 0.1 })).toEqual({
      prompt_tokens: 2,
      completion_tokens: 3,
      total_tokens: 5,
      cost: 0.1,
    });
  });

  it('does not overwrite an upstream cached_tokens', () => {
    const usage = normaliseUsage({
      prompt_tokens: 10,
      completion_tokens: 1,
      total_tokens: 11,
      prompt_cache_hit_tokens: 4,
      prompt_tokens_details: { cached_tokens: 5 },
    });
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(5);
  });

  it('rejects objects without counts', () => {
    expect(normaliseUsage({})).toBeUndefined();
    expect(normaliseUsage('12')).toBeUndefined();
  });
});
