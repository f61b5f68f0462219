import { setTimeout as sleep } from 'node:timers/promises';
import { encode } from 'gpt-tokenizer';
import { afterEach, describe, expect, it } from 'vitest';
import { approximateTokens, TokenCounter } from './tokenizer.js';

const counters: TokenCounter[] = [];
function counter(options?: ConstructorParameters<typeof TokenCounter>[0]): TokenCounter {
  const c = new TokenCounter(options);
  counters.push(c);
  return c;
}

afterEach(async () => {
  for (const c of counters.splice(0)) await c.close();
});

describe('TokenCounter (gpt-tokenizer in a worker thread)', () => {
  const texts = [
    'Hello, world!',
    '',
    '你好，世界。这是一个测试。',
    '{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}',
  ];

  it('counts each text exactly as gpt-tokenizer does, in order, empty texts as 0', async () => {
    const counts = await counter().count(texts);
    expect(counts).toEqual(texts.map((t) => encode(t).length));
    expect(counts[1]).toBe(0);
  });

  it('answers concurrent requests each with its own counts', async () => {
    const c = counter();
    const [a, b, d] = await Promise.all([c.count(['one two three']), c.count(['four']), c.count(texts)]);
    expect(a).toEqual([encode('one two three').length]);
    expect(b).toEqual([encode('four').length]);
    expect(d).toEqual(texts.map((t) => encode(t).length));
  });

  it('does not start the worker for empty texts', async () => {
    const c = counter();
    expect(await c.count(['', ''])).toEqual([0, 0]);
    expect(c.running).toBe(false);
  });

  it('closes the worker when idle and starts it again on demand', async () => {
    const c = counter({ idleMs: 50 });
    await c.count(['warm up']);
    expect(c.running).toBe(true);
    await sleep(300);
    expect(c.running).toBe(false);
    expect(await c.count(['again'])).toEqual([encode('again').length]);
    expect(c.running).toBe(true);
  });

  it('approximates (never rejects) when the tokenizer cannot load, and does not retry at once', async () => {
    const c = counter({ tokenizerPath: '/nonexistent/tokenizer.js', idleMs: 60_000 });
    const text = 'x'.repeat(40);
    expect(await c.count([text, ''])).toEqual([10, 0]);
    expect(c.running).toBe(false);
    expect(await c.count([text])).toEqual([approximateTokens(text)]);
  });

  it('answers counts still owed with the approximation when closed', async () => {
    const c = counter();
    const owed = c.count(['a fairly ordinary sentence of text']);
    await c.close();
    expect(await owed).toEqual([approximateTokens('a fairly ordinary sentence of text')]);
  });
});
