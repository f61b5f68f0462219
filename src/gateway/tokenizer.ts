import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * gpt-tokenizer's o200k rank table, read from the package's `.tiktoken` data file (each line: a token's bytes
 * in base64, a space, its rank) into the form its own JS table has: a token that is UTF-8 text (without a
 * leading byte order mark) as a string, any other as its bytes. Loading the shipped 2.4 MB JS table instead
 * makes V8 compile one array literal of 200 k strings, whose parser memory stays with the process: 25 MiB
 * more RSS for good (measured: +37 MiB after the first count against +12 MiB this way). Self-contained, as
 * its source is sent to the worker.
 */
export function ranksFromTiktoken(file: Buffer): Array<string | number[]> {
  const ranks: Array<string | number[]> = [];
  const strict = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  while (at < file.length) {
    let end = file.indexOf(10, at);
    if (end < 0) end = file.length;
    const space = file.indexOf(32, at);
    if (space > at && space < end) {
      const bytes = Buffer.from(file.toString('latin1', at, space), 'base64');
      let rank = 0;
      for (let i = space + 1; i < end; i++) {
        const digit = (file[i] as number) - 48;
        if (digit >= 0 && digit <= 9) rank = rank * 10 + digit;
      }
      let text: string | undefined = bytes.toString('utf8');
      if (text.charCodeAt(0) === 0xfeff || Buffer.byteLength(text) !== bytes.length) text = undefined;
      else if (text.includes('\ufffd')) {
        try {
          strict.decode(bytes);
        } catch {
          text = undefined;
        }
      }
      ranks[rank] = text ?? Array.from(bytes);
    }
    at = end + 1;
  }
  return ranks;
}

/**
 * The worker's code (CommonJS, evaluated): builds gpt-tokenizer's o200k encoding from the data file (see
 * `ranksFromTiktoken`), or loads the package's own when that fails, and answers `{ id, texts }` with
 * `{ id, counts }`. Inline rather than a file, so it runs the same from `dist/` and under the test runner.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const ranksFromTiktoken = ${ranksFromTiktoken.toString()};
let encode;
try {
  const { GptEncoding } = require(workerData.encodingPath);
  encode = GptEncoding.getEncodingApi('o200k_base', () => ranksFromTiktoken(readFileSync(workerData.ranksPath))).encode;
  parentPort.postMessage({ loaded: 'data file' });
} catch {
  encode = require(workerData.tokenizerPath).encode;
  parentPort.postMessage({ loaded: 'package' });
}
parentPort.on('message', ({ id, texts }) => {
  const counts = texts.map((text) => (text ? encode(text).length : 0));
  parentPort.postMessage({ id, counts });
});
`;

/** Where the worker finds gpt-tokenizer: its main module, its encoding class and its o200k data file. */
function tokenizerPaths(main: string | undefined): { tokenizerPath: string; encodingPath: string; ranksPath: string } {
  const req = createRequire(import.meta.url);
  const resolve = (name: string) => {
    try {
      return req.resolve(name);
    } catch {
      return '';
    }
  };
  return {
    tokenizerPath: main ?? req.resolve('gpt-tokenizer'),
    // Given a main module (tests), that one is what counts.
    encodingPath: main ? '' : resolve('gpt-tokenizer/GptEncoding'),
    ranksPath: main ? '' : resolve('gpt-tokenizer/data/o200k_base.tiktoken'),
  };
}

/** Close the worker after this long without work: its vocabulary holds ~60–80 MiB. */
const DEFAULT_IDLE_MS = 60_000;

interface Pending {
  resolve: (counts: number[]) => void;
  texts: string[];
}

/**
 * Counts tokens with gpt-tokenizer (o200k) in a worker thread started on first use and closed when idle.
 * Counting is only needed when an upstream reports no usage (or a stream ends before it does); loading the
 * vocabulary takes a few hundred milliseconds of CPU and tens of MiB, which on the event loop's thread
 * stalled every request in flight and stayed resident for good. Never rejects: if the worker cannot
 * start or dies, the affected texts are counted with a byte-based approximation.
 */
export class TokenCounter {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #idleMs: number;
  #tokenizerPath: string | undefined;
  #loadedFrom: 'data file' | 'package' | undefined;
  /** When the worker last failed; it is not started again for `idleMs` after (counts are approximated). */
  #failedAt = Number.NEGATIVE_INFINITY;

  constructor(options: { idleMs?: number; tokenizerPath?: string } = {}) {
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#tokenizerPath = options.tokenizerPath;
  }

  /** Token counts of `texts`, in order (empty strings count 0). */
  count(texts: string[]): Promise<number[]> {
    if (texts.every((text) => text === '')) return Promise.resolve(texts.map(() => 0));
    return new Promise((resolve) => {
      const worker = this.worker();
      if (!worker) {
        resolve(texts.map(approximateTokens));
        return;
      }
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, texts });
      if (this.#idleTimer) clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
      // Keep the process alive while counts are owed (a request's usage record waits for them).
      worker.ref();
      worker.postMessage({ id, texts });
    });
  }

  /** Where the running worker took its vocabulary from (for tests and diagnostics). */
  get loadedFrom(): 'data file' | 'package' | undefined {
    return this.#loadedFrom;
  }

  /** Whether the worker is running (for tests). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Stop the worker; counts still owed are answered with the approximation. */
  async close(): Promise<void> {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const worker = this.#worker;
    this.#worker = undefined;
    this.failPending();
    if (worker) await worker.terminate();
  }

  private worker(): Worker | undefined {
    if (this.#worker) return this.#worker;
    if (performance.now() - this.#failedAt < this.#idleMs) return undefined;
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: tokenizerPaths(this.#tokenizerPath) });
      worker.on('message', (message: { id: number; counts: number[] } | { loaded: TokenCounter['loadedFrom'] }) => {
        if ('loaded' in message) this.#loadedFrom = message.loaded;
        else this.answered(message);
      });
      worker.on('error', () => {
        this.#failedAt = performance.now();
        this.lost(worker);
      });
      worker.on('exit', () => this.lost(worker));
      this.#worker = worker;
      return worker;
    } catch {
      this.#failedAt = performance.now();
      return undefined;
    }
  }

  private answered({ id, counts }: { id: number; counts: number[] }): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.resolve(counts);
    if (this.#pending.size === 0) this.idle();
  }

  /** Nothing owed: let the process exit without waiting for the worker, and close it after a while. */
  private idle(): void {
    const worker = this.#worker;
    if (!worker) return;
    worker.unref();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#worker !== worker || this.#pending.size > 0) return;
      this.#worker = undefined;
      void worker.terminate();
    }, this.#idleMs);
    this.#idleTimer.unref();
  }

  private lost(worker: Worker): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.failPending();
  }

  private failPending(): void {
    for (const { resolve, texts } of this.#pending.values()) resolve(texts.map(approximateTokens));
    this.#pending.clear();
  }
}

/** About four UTF-8 bytes a token: what BPE tokenizers average on English text. */
export function approximateTokens(text: string): number {
  return text ? Math.ceil(Buffer.byteLength(text) / 4) : 0;
}
