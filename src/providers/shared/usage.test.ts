import { describe, expect, it } from 'vitest';
import { normaliseUsage, observeUsageFromSse } from './usage.js';

describe('observeUsageFromSse', () => {
  it('returns the usage of a usage chunk, with or without the data: prefix', () => {
    const payload = '{"id":"c","choices":[],"usage":{"prompt_tokens":14,"completion_tokens":30,"total_tokens":44}}';
    const expected = { prompt_tokens: 14, completion_tokens: 30, total_tokens: 44 };
    expect(observeUsageFromSse(payload)).toEqual(expected);
    expect(observeUsageFromSse(`data: ${payload}`)).toEqual(expected);
  });

  it('returns undefined for content chunks, usage: null, [DONE] and junk', () => {
    expect(observeUsageFromSse('{"choices":[{"index":0,"delta":{"content":"hi"}}]}')).toBeUndefined();
    expect(observeUsageFromSse('{"choices":[],"usage":null}')).toBeUndefined();
    expect(observeUsageFromSse('[DONE]')).toBeUndefined();
    expect(observeUsageFromSse('{"usage": broken')).toBeUndefined();
  });

  it('reads the usage DeepSeek puts on its finish chunk and maps its cache hits', () => {
    const usage = observeUsageFromSse(
      'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":3,"total_tokens":1203,"prompt_cache_hit_tokens":1152,"prompt_cache_miss_tokens":48}}',
    );
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(1152);
  });
});

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
