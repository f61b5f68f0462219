/**
 * Ways a burst could spend past a budget: streamed answers, and requests whose actual cost exceeds
 * what admission reserved for them. The bound the issue sets: a burst may overshoot a budget by at most
 * one request's actual cost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/app.js';
import { start as startOpenAiFake } from '../support/fakes/openai.js';
import { burst, eventually, type LimitsApp, MASTER, startLimitsApp, statuses, sum } from '../support/limits.js';

describe.each(BACKENDS)('budget bound under bursts (%s counters)', (backend) => {
  let a: LimitsApp;

  beforeAll(async () => {
    a = await startLimitsApp({ backend });
  });
  afterAll(async () => a?.close());

  /** Fire `n` requests at once on a fresh key with `budget`; return the served rows and what the log says was spent. */
  async function spendBurst(n: number, budget: number, send: (secret: string) => Promise<{ status: number }>) {
    const { secret, key } = await a.newKey({ budgetMicros: budget, budgetPeriod: 'day' });
    const results = await burst(n, () => send(secret));
    const logged = await a.logs('key_id', key.id);
    const spent = sum(logged, (r) => r.cost);
    // Refused requests are logged too (429, nothing billed); the rest are the served ones.
    const refused = logged.filter((r) => r.status !== 200);
    expect(refused.every((r) => r.status === 429 && r.cost === 0)).toBe(true);
    expect(refused).toHaveLength(results.filter((r) => r.status === 429).length);
    const rows = logged.filter((r) => r.status === 200);
    await eventually(
      () => a.counter({ type: 'key', id: key.id }, 'cost', 'day'),
      (v) => v === spent,
    );
    expect(await a.counter({ type: 'key', id: key.id }, 'cost', 'day')).toBe(spent);
    return { results, rows, spent, oneRequest: Math.max(...rows.map((r) => r.cost)) };
  }

  const streamChat = (secret: string, extra: Record<string, unknown> = {}) =>
    fetch(`${a.t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'mock-gpt',
        stream: true,
        max_tokens: 20,
        messages: [{ role: 'user', content: 'Hello there' }],
        ...extra,
      }),
    }).then(async (res) => ({ status: res.status, body: await res.text() }));

  it('holds the budget for streamed answers (chat and messages)', async () => {
    const { results, spent, oneRequest, rows } = await spendBurst(100, 500, (s) => streamChat(s));
    expect(statuses(results)[200]).toBe(rows.length);
    expect(rows.every((r) => r.status === 200 && r.cost === 48)).toBe(true);
    expect(spent).toBeLessThanOrEqual(500 + oneRequest);

    const messages = await spendBurst(100, 500, (s) =>
      fetch(`${a.t.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': s, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'mock-gpt',
          stream: true,
          max_tokens: 20,
          messages: [{ role: 'user', content: 'Hello there' }],
        }),
      }).then(async (res) => ({ status: res.status, body: await res.text() })),
    );
    expect(messages.rows.length).toBeGreaterThan(0);
    expect(messages.spent).toBeLessThanOrEqual(500 + messages.oneRequest);
  });

  // A slow stream keeps every request of the burst in flight at once (in memory, a request served by the
  // in-process mock would otherwise settle before the next one is admitted).
  const MOCK_GPT_PRICES = { inputPrice: 1_000_000, outputPrice: 2_000_000 };

  it('holds the budget when a request asks for several choices (n > 1)', async () => {
    const model = await a.slowModel(`burst-n-${backend}`, 25, MOCK_GPT_PRICES);
    const { spent, oneRequest } = await spendBurst(200, 500, (s) => streamChat(s, { model, n: 4, max_tokens: 2 }));
    expect(oneRequest).toBe(24);
    expect(spent).toBeLessThanOrEqual(500 + oneRequest);
  });

  it('holds the budget when a cheap model falls back to a dearer one', async () => {
    const cheap = await a.call('POST', '/api/admin/models', {
      token: MASTER,
      body: { name: `cheap-${backend}`, inputPrice: 1, outputPrice: 1, routes: [], fallbacks: ['mock-gpt'] },
    });
    expect(cheap.status, JSON.stringify(cheap.body)).toBe(201);
    const { spent, oneRequest, rows } = await spendBurst(200, 200, (s) => streamChat(s, { model: `cheap-${backend}` }));
    expect(rows.every((r) => r.status === 200)).toBe(true);
    expect(oneRequest).toBe(48);
    expect(spent).toBeLessThanOrEqual(200 + oneRequest);
  });

  it('holds the budget for prompts the quick estimate under-counts', async () => {
    const model = await a.slowModel(`burst-prompt-${backend}`, 150, MOCK_GPT_PRICES);
    const words = 'a '.repeat(300);
    const { spent, oneRequest } = await spendBurst(200, 3_000, (s) =>
      streamChat(s, { model, max_tokens: 1, messages: [{ role: 'user', content: words }] }),
    );
    expect(oneRequest).toBe(306);
    expect(spent).toBeLessThanOrEqual(3_000 + oneRequest);
  });

  it('holds the budget for tiny prompts that the upstream pads with its chat template', async () => {
    // The fake Ollama bills 10 prompt tokens and 5 completion tokens: what qwen3's template makes of "Say hello"
    // (<|im_start|>user … <|im_end|> <|im_start|>assistant). Bytes / 2 alone guesses 5 + 2 of framing, so
    // before template overhead was counted a burst reserved 12 micro-USD a request and 13 ran on 10's budget.
    const fake = await startOpenAiFake({ flavor: 'ollama' });
    try {
      const channel = await a.call<{ id: string }>('POST', '/api/admin/channels', {
        token: MASTER,
        body: { name: `ollama-${backend}`, type: 'openai-compatible', baseUrl: fake.baseUrl, keys: ['unused'] },
      });
      expect(channel.status, JSON.stringify(channel.body)).toBe(201);
      const model = `qwen3-${backend}`;
      const created = await a.call('POST', '/api/admin/models', {
        token: MASTER,
        body: { name: model, inputPrice: 1_000_000, outputPrice: 1_000_000, routes: [{ channelId: channel.body.id }] },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const oneRequest = 15; // 10 prompt + 5 completion tokens at 1 micro-USD each
      const budget = 10 * oneRequest;
      const { secret, key } = await a.newKey({ budgetMicros: budget, budgetPeriod: 'day' });
      const sayHello = () =>
        a.chat(secret, { model, max_tokens: 5, messages: [{ role: 'user', content: 'Say hello' }] });

      // A slow first byte keeps the whole burst in flight, so only reservations stand between it and the budget.
      fake.setScenario({ name: 'text', firstByteDelayMs: 400 });
      const results = await burst(50, sayHello);
      expect(statuses(results)[200]).toBeGreaterThan(0);
      // Then one at a time: the budget left after settlement stays usable.
      fake.setScenario('text');
      for (let i = 0; i < 20; i++) if ((await sayHello()).status !== 200) break;

      const rows = (await a.logs('key_id', key.id)).filter((r) => r.status === 200);
      expect(rows.every((r) => r.cost === oneRequest)).toBe(true);
      // Ten requests' budget serves ten, at most one more.
      expect(rows.length).toBeGreaterThanOrEqual(10);
      expect(rows.length).toBeLessThanOrEqual(11);
    } finally {
      await fake.close();
    }
  });
});
