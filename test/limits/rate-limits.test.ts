/**
 * Requests per minute, tokens per minute and requests in flight, on both counter backends: exact under
 * concurrency, shared by every spend route, refused with `429 rate_limit_exceeded` + Retry-After, and
 * reported in OpenAI-style `x-ratelimit-*` headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/app.js';
import { burst, eventually, type LimitsApp, startLimitsApp, statuses } from '../support/limits.js';

/**
 * A prompt the reservation estimate counts exactly (7 bytes / 2 → 4, plus the mock's 4 a message: the 8 tokens
 * the mock bills), so with max_tokens 20 a request reserves and uses 28 tokens and settling changes nothing.
 */
const EXACT = { messages: [{ role: 'user', content: 'a b c d' }] };

describe.each(BACKENDS)('rate limits (%s counters)', (backend) => {
  let a: LimitsApp;

  beforeAll(async () => {
    a = await startLimitsApp({ backend });
  });
  afterAll(async () => a?.close());

  it('admits exactly rpm requests of a concurrent burst, with headers and Retry-After', async () => {
    const { secret } = await a.newKey({ rpm: 5 });
    const results = await burst(12, () => a.chat(secret));
    expect(statuses(results)).toEqual({ 200: 5, 429: 7 });

    const ok = results.filter((r) => r.status === 200);
    for (const r of ok) {
      expect(r.headers.get('x-ratelimit-limit-requests')).toBe('5');
      expect(Number(r.headers.get('x-ratelimit-reset-requests')?.replace(/s$/, ''))).toBeLessThanOrEqual(60);
      expect(r.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
      // No per-minute token limit: no token headers.
      expect(r.headers.get('x-ratelimit-limit-tokens')).toBeNull();
    }
    // Each admitted request saw one fewer left: 4, 3, 2, 1, 0 in some order.
    expect(ok.map((r) => Number(r.headers.get('x-ratelimit-remaining-requests'))).sort()).toEqual([0, 1, 2, 3, 4]);

    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.body.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_error' });
      expect(r.body.error.message).toMatch(
        /^This API key's limit of 5 requests per minute is reached; retry after \d+s$/,
      );
      const retry = Number(r.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
    }
    // Still inside the window: the next one is refused too.
    expect((await a.chat(secret)).status).toBe(429);
  });

  it('sends the x-ratelimit headers on the 429 as well', async () => {
    const { secret } = await a.newKey({ rpm: 1 });
    expect((await a.chat(secret)).status).toBe(200);
    const refused = await a.chat(secret);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('1');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(refused.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
  });

  it('shares the per-minute window between chat, messages and embeddings', async () => {
    const { secret } = await a.newKey({ rpm: 2 });
    expect((await a.embed(secret)).status).toBe(200);
    expect((await a.chat(secret)).status).toBe(200);
    const messages = await a.messages(secret);
    expect(messages.status).toBe(429);
    expect(messages.body).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.stringContaining('2 requests per minute') },
    });
    expect(Number(messages.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const embeddings = await a.embed(secret);
    expect(embeddings.status).toBe(429);
    expect(embeddings.body.error.code).toBe('rate_limit_exceeded');
  });

  it('admits tokens per minute exactly, on the reservation (prompt + max_tokens)', async () => {
    // Each request reserves 28 tokens: three fit in 100, a fourth does not.
    const { secret } = await a.newKey({ tpm: 100 });
    const results = await burst(6, () => a.chat(secret, EXACT));
    expect(statuses(results)).toEqual({ 200: 3, 429: 3 });
    const ok = results.filter((r) => r.status === 200);
    expect(ok.map((r) => Number(r.headers.get('x-ratelimit-remaining-tokens'))).sort((x, y) => x - y)).toEqual([
      16, 44, 72,
    ]);
    expect(ok[0]?.headers.get('x-ratelimit-limit-tokens')).toBe('100');
    expect(ok[0]?.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+s$/);
    const refused = results.find((r) => r.status === 429);
    expect(refused?.body.error.code).toBe('rate_limit_exceeded');
    expect(refused?.body.error.message).toMatch(/^This API key's limit of 100 tokens per minute is reached/);
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('gives back the tokens a request reserved but did not use', async () => {
    const { secret } = await a.newKey({ tpm: 100 });
    // max_tokens 80 reserves 10 + 80 = 90 ("Hello there": 6 by its bytes, 4 of the mock's framing); the mock
    // bills 8 + 70, so 78 are used.
    const first = await a.chat(secret, { max_tokens: 80 });
    expect(first.status).toBe(200);
    await new Promise((r) => setTimeout(r, 150)); // settlement runs after the answer is sent
    // 78 + 22 ≤ 100 only if the 12 unused tokens came back (90 + 22 > 100).
    const second = await a.chat(secret, { max_tokens: 12 });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
  });

  it('does not charge the tokens of a refused request to the per-minute window', async () => {
    const { secret } = await a.newKey({ tpm: 100 });
    expect((await a.chat(secret, EXACT)).status).toBe(200); // 28 of 100
    const big = await a.chat(secret, { ...EXACT, max_tokens: 500 }); // 508: refused
    expect(big.status).toBe(429);
    const fits = await a.chat(secret, EXACT); // 28 + 28 ≤ 100
    expect(fits.status, JSON.stringify(fits.body)).toBe(200);
    expect(fits.headers.get('x-ratelimit-remaining-tokens')).toBe('44');
  });

  it('allows maxConcurrency requests in flight; the next waits until one finishes', async () => {
    const model = await a.slowModel(`slow-${backend}`, 30);
    const { secret } = await a.newKey({ maxConcurrency: 2, rpm: 100 });
    const first = await a.openStream(secret, model);
    const second = await a.openStream(secret, model);
    expect([first.status, second.status]).toEqual([200, 200]);
    // Streams carry the rate-limit headers as well.
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('100');

    const third = await a.chat(secret, { model });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('rate_limit_exceeded');
    expect(third.body.error.message).toBe(
      "This API key's limit of 2 concurrent requests is reached; retry when one finishes",
    );
    expect(third.headers.get('retry-after')).toBe('1');
    const thirdStream = await a.openStream(secret, model);
    expect(thirdStream.status).toBe(429);
    await thirdStream.text();
    expect((await a.messages(secret, { model })).status).toBe(429);

    const bodies = await Promise.all([first.text(), second.text()]);
    for (const body of bodies) expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const after = await eventually(
      () => a.chat(secret, { model }),
      (r) => r.status === 200,
      1_000,
    );
    expect(after.status).toBe(200);
    // Both slots are free again.
    const pair = await Promise.all([a.openStream(secret, model), a.openStream(secret, model)]);
    expect(pair.map((r) => r.status)).toEqual([200, 200]);
    await Promise.all(pair.map((r) => r.text()));
  });

  it('frees the concurrency slot of a client that hangs up mid-stream', async () => {
    const model = await a.slowModel(`slow-abort-${backend}`, 30);
    const { secret } = await a.newKey({ maxConcurrency: 1 });
    const abort = new AbortController();
    const res = await a.openStream(secret, model, abort.signal);
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    await reader?.read();
    expect((await a.chat(secret, { model })).status).toBe(429);
    abort.abort();
    await reader?.cancel().catch(() => undefined);
    // The slot comes back at once; the allowance covers a whole slow answer on a loaded 2-core machine.
    const after = await eventually(
      () => a.chat(secret, { model }),
      (r) => r.status === 200,
      10_000,
    );
    expect(after.status).toBe(200);
  });

  it('gives back the per-minute request a refused request took (refused for concurrency)', async () => {
    const model = await a.slowModel(`slow-refund-${backend}`, 30);
    const { secret } = await a.newKey({ maxConcurrency: 1, rpm: 3 });
    const open = await a.openStream(secret, model);
    // Refused for concurrency three times: none of them may use up the rpm.
    for (let i = 0; i < 3; i++) expect((await a.chat(secret, { model })).status).toBe(429);
    await open.text();
    const next = await eventually(
      () => a.chat(secret),
      (r) => r.status === 200,
      1_000,
    );
    expect(next.status).toBe(200);
    expect(next.headers.get('x-ratelimit-remaining-requests')).toBe('1');
  });
});
