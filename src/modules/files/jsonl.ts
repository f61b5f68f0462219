/**
 * JSONL as the Batch API takes it: one JSON object a line (UTF-8, `\n` or `\r\n`), blank lines ignored. Lines
 * are numbered from 1 as a text editor shows them; errors name the line.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** A problem with one line of a JSONL file. */
export class JsonlError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'JsonlError';
  }
}

/**
 * Checks JSONL as its bytes stream past (an upload): every line a JSON object of at most `maxLineBytes`
 * bytes. Holds at most one line in memory. `push` each chunk, then `end`; both throw a JsonlError.
 */
export class JsonlChecker {
  #line = 1;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Non-blank lines seen. */
  lines = 0;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
      this.take(chunk.subarray(start, end));
      this.complete();
      start = end + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
  }

  end(): void {
    if (this.#pendingBytes > 0) this.complete();
    if (this.lines === 0) throw new JsonlError(1, 'the file has no lines: expected one JSON object a line');
  }

  private take(part: Buffer): void {
    this.#pendingBytes += part.length;
    if (this.#pendingBytes > this.maxLineBytes)
      throw new JsonlError(this.#line, `longer than the limit of ${this.maxLineBytes} bytes`);
    this.#pending.push(part);
  }

  private complete(): void {
    const text = Buffer.concat(this.#pending, this.#pendingBytes).toString('utf8').trim();
    this.#pending = [];
    this.#pendingBytes = 0;
    if (text !== '') {
      parseLineObject(text, this.#line);
      this.lines++;
    }
    this.#line++;
  }
}

/** One line's JSON object, or a JsonlError naming the line. */
export function parseLineObject(text: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JsonlError(line, 'not valid JSON (a JSONL file has one JSON object per line)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new JsonlError(line, 'expected a JSON object');
  return value as Record<string, unknown>;
}

/** The non-blank lines of a JSONL stream with their line numbers, one at a time (constant memory). */
export async function* jsonlLines(input: Readable): AsyncGenerator<{ line: number; text: string }> {
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const raw of reader) {
      line++;
      const text = raw.trim();
      if (text !== '') yield { line, text };
    }
  } finally {
    reader.close();
    input.destroy();
  }
}
