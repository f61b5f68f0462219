import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { encode } from 'gpt-tokenizer';
import { afterEach, describe, expect, it } from 'vitest';
import { approximateTokens, ranksFromTiktoken, TokenCounter } from './tokenizer.js';

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
    const c = counter();
    const counts = await c.count(texts);
    expect(counts).toEqual(texts.map((t) => encode(t).length));
    expect(counts[1]).toBe(0);
    // The light way: the vocabulary read from the package's data file, not its compiled JS table.
    expect(c.loadedFrom).toBe('data file');
  });

  it('loads the package itself when given its path (no data file)', async () => {
    const c = counter({ tokenizerPath: createRequire(import.meta.url).resolve('gpt-tokenizer') });
    expect(await c.count(texts)).toEqual(texts.map((t) => encode(t).length));
    expect(c.loadedFrom).toBe('package');
  });

  it('reads the data file into exactly the rank table gpt-tokenizer ships', () => {
    const require = createRequire(import.meta.url);
    const shipped = (require('gpt-tokenizer/bpeRanks/o200k_base') as { default: Array<string | number[]> }).default;
    const ranks = ranksFromTiktoken(readFileSync(require.resolve('gpt-tokenizer/data/o200k_base.tiktoken')));
    expect(ranks.length).toBe(shipped.length);
    expect(ranks).toEqual(shipped);
  });

  it('keeps each token as gpt-tokenizer does: UTF-8 text as a string, other bytes as bytes', () => {
    expect(ranksFromTiktoken(Buffer.from('SGk= 0\nIQ== 1\n\nbad-line\n'))).toEqual(['Hi', '!']);
    // A byte order mark at the start, and bytes that are not UTF-8, stay bytes (as gpt-tokenizer keeps them).
    expect(ranksFromTiktoken(Buffer.from('77u/YQ== 0\n/w== 1\n77+9 2\n'))).toEqual([
      [0xef, 0xbb, 0xbf, 0x61],
      [0xff],
      '\ufffd',
    ]);
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
