import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code (CommonJS, evaluated): loads gpt-tokenizer from the path it is given and answers
 * `{ id, texts }` with `{ id, counts }`. Inline rather than a file, so it runs the same from `dist/` and
 * from the TypeScript sources under the test runner.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { encode } = require(workerData.tokenizerPath);
parentPort.on('message', ({ id, texts }) => {
  const counts = texts.map((text) => (text ? encode(text).length : 0));
  parentPort.postMessage({ id, counts });
});
`;

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
      this.#tokenizerPath ??= createRequire(import.meta.url).resolve('gpt-tokenizer');
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { tokenizerPath: this.#tokenizerPath } });
      worker.on('message', (message: { id: number; counts: number[] }) => this.answered(message));
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
