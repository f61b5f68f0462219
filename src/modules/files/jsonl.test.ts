import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JsonlChecker, JsonlError, jsonlLines } from './jsonl.js';

function check(chunks: string[], max = 1000): number {
  const checker = new JsonlChecker(max);
  for (const chunk of chunks) checker.push(Buffer.from(chunk));
  checker.end();
  return checker.lines;
}

describe('JsonlChecker', () => {
  it('counts object lines across chunk boundaries, CRLF and blank lines included', () => {
    expect(check(['{"a":', '1}\n{"b"', ':2}\r\n\n', '{"c":3}'])).toBe(3);
    expect(check(['{"a":1}\n'])).toBe(1);
  });

  it('names the line that is not JSON, not an object, or too long', () => {
    expect(() => check(['{"a":1}\n{oops}\n'])).toThrow(
      new JsonlError(2, 'not valid JSON (a JSONL file has one JSON object per line)'),
    );
    expect(() => check(['{"a":1}\n\n[1,2]\n'])).toThrow(/line 3: expected a JSON object/);
    expect(() => check(['{"a":1}\n', `{"b":"${'x'.repeat(50)}`, `${'y'.repeat(60)}"}\n`], 100)).toThrow(
      /line 2: longer than the limit of 100 bytes/,
    );
  });

  it('refuses an empty file', () => {
    expect(() => check(['\n\n'])).toThrow(/no lines/);
  });
});

describe('jsonlLines', () => {
  it('yields the non-blank lines with their numbers', async () => {
    const out: Array<{ line: number; text: string }> = [];
    for await (const l of jsonlLines(Readable.from(['{"a":1}\r\n\n{"b":', '2}\n']))) out.push(l);
    expect(out).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 3, text: '{"b":2}' },
    ]);
  });
});
