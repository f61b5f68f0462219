import type { EventEmitter } from 'node:events';
import { Agent, type Dispatcher, errors, util } from 'undici';
import type { ChannelTimeouts } from '../modules/channels/options.js';
import type { UpstreamErrorInfo, UpstreamHttpRequest } from '../providers/types.js';

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: UpstreamBody;
}

/** What aborts a request: an AbortSignal, or an emitter of `abort` with an optional `reason`. */
type Signal = AbortSignal | (EventEmitter & { aborted?: boolean; reason?: unknown }) | null | undefined;

/** Bytes a body may hold unread before the upstream connection is paused (a client slower than its upstream). */
const HIGH_WATER = 64 * 1024;

/**
 * An upstream response body, fed by undici's dispatcher callbacks: iterate it (`for await`) or read it whole
 * (`text()`). It replaces undici's `request()` body, a Node Readable, whose stream machinery (async iterator,
 * nextTick scheduling, AsyncResource) cost ~10 µs of CPU per non-stream request and ~4 per stream on the
 * bench's host (bench/RESULTS.md). An upstream failure is thrown after the data that came before it; an abort
 * (client gone, deadline) is thrown at once. Leaving a `for await` early aborts the upstream request.
 */
export class UpstreamBody implements AsyncIterable<Buffer> {
  #chunks: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  /** Set while the upstream is paused (onData returned false). */
  #paused = false;
  #whole = false;

  constructor(
    private readonly resumeUpstream: () => void,
    private readonly abortUpstream: (reason: Error) => void,
  ) {}

  /** undici's onData: false pauses the upstream until the reader catches up. */
  push(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    this.wakeReader();
    if (this.#whole || this.#queued < HIGH_WATER) return true;
    this.#paused = true;
    return false;
  }

  end(): void {
    this.#ended = true;
    this.wakeReader();
  }

  /** An upstream failure (the data before it is still read first) or, `now`, an abort (nothing more is read). */
  fail(error: Error, now: boolean): void {
    if (this.#ended || this.#error) return;
    this.#error = error;
    if (now) {
      this.#chunks = [];
      this.#queued = 0;
    }
    this.wakeReader();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: () => this.next(),
      return: () => {
        // The reader stopped early: the rest of the answer is not wanted.
        if (!this.#ended && !this.#error) {
          const reason = new errors.RequestAbortedError();
          this.fail(reason, true);
          this.abortUpstream(reason);
        }
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  /** The whole body as UTF-8 text. */
  async text(): Promise<string> {
    this.#whole = true;
    this.resumeIfPaused();
    while (!this.#ended && this.#error === undefined) await new Promise<void>((resolve) => (this.#wake = resolve));
    if (this.#error !== undefined) throw this.#error;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#queued = 0;
    return chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
  }

  private next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) {
      this.#queued -= chunk.length;
      if (this.#queued < HIGH_WATER) this.resumeIfPaused();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise<void>((resolve) => (this.#wake = resolve)).then(() => this.next());
  }

  private resumeIfPaused(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.resumeUpstream();
  }

  private wakeReader(): void {
    const wake = this.#wake;
    if (!wake) return;
    this.#wake = undefined;
    wake();
  }
}

function isAbortSignal(signal: NonNullable<Signal>): signal is AbortSignal {
  return typeof (signal as AbortSignal).addEventListener === 'function';
}

/**
 * One request's undici dispatch handler (undici's callback interface, as its own `request()` uses): resolves
 * with status and headers, then feeds the body; follows `signal` as `request()` does.
 */
class Exchange implements Dispatcher.DispatchHandler {
  #abort: ((reason: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #reason: Error | undefined;
  #body: UpstreamBody | undefined;
  #done = false;
  readonly #onSignal: (() => void) | undefined;

  constructor(
    private readonly resolve: (res: UpstreamResponse) => void,
    private readonly reject: (error: unknown) => void,
    private readonly signal: Signal,
  ) {
    if (!signal) return;
    const reasonOf = () => (signal.reason as Error | undefined) ?? new errors.RequestAbortedError();
    if (signal.aborted) {
      this.#reason = reasonOf();
      return;
    }
    this.#onSignal = () => {
      const reason = reasonOf();
      this.#reason = reason;
      this.#body?.fail(reason, true);
      this.#abort?.(reason);
    };
    if (isAbortSignal(signal)) signal.addEventListener('abort', this.#onSignal, { once: true });
    else signal.once('abort', this.#onSignal);
  }

  onConnect(abort: (reason: Error) => void): void {
    if (this.#reason) abort(this.#reason);
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    this.#resume = resume;
    this.#body = new UpstreamBody(
      () => this.#resume?.(),
      (reason) => this.#abort?.(reason),
    );
    this.resolve({
      status: statusCode,
      headers: util.parseHeaders(rawHeaders) as UpstreamResponse['headers'],
      body: this.#body,
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.#body ? this.#body.push(chunk) : true;
  }

  onComplete(): void {
    this.finish();
    this.#body?.end();
  }

  onError(error: Error): void {
    this.finish();
    if (this.#body) this.#body.fail(error, error === this.#reason);
    else this.reject(error);
  }

  private finish(): void {
    if (this.#done) return;
    this.#done = true;
    const signal = this.signal;
    if (!signal || !this.#onSignal) return;
    if (isAbortSignal(signal)) signal.removeEventListener('abort', this.#onSignal);
    else signal.removeListener('abort', this.#onSignal);
  }
}

/**
 * Upstream HTTP over undici keep-alive pools (one Agent, one pool per origin; DESIGN.md §2 rule 3).
 * Time limits: connect, first byte (response headers), idle between body chunks, and a total deadline.
 */
export class UpstreamClient {
  readonly #agent: Agent;
  /** Upstream URLs split into origin and path once (channels call the same few endpoints). */
  readonly #targets = new Map<string, { origin: string; path: string }>();

  constructor(options: { connectTimeoutMs?: number; connections?: number } = {}) {
    this.#agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connections: options.connections ?? 512,
      connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    });
  }

  /** Send a request; `signal` (an AbortSignal or an emitter of `abort`) aborts it (client gone, deadline). */
  send(req: UpstreamHttpRequest, timeouts: Required<ChannelTimeouts>, signal: Signal): Promise<UpstreamResponse> {
    const { origin, path } = this.target(req.url);
    return new Promise((resolve, reject) => {
      const exchange = new Exchange(resolve, reject, signal);
      try {
        this.#agent.dispatch(
          {
            origin,
            path,
            method: req.method as Dispatcher.HttpMethod,
            headers: req.headers,
            body: req.body,
            headersTimeout: timeouts.firstByteMs,
            bodyTimeout: timeouts.idleMs,
          },
          exchange,
        );
      } catch (error) {
        reject(error);
      }
    });
  }

  /** What undici's `request(url)` does with a URL (origin, path with query), remembered per URL. */
  private target(url: string): { origin: string; path: string } {
    let target = this.#targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname };
      if (this.#targets.size >= MAX_REMEMBERED_URLS) this.#targets.clear();
      this.#targets.set(url, target);
    }
    return target;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** URLs whose parts are remembered; beyond this the memo starts over (URLs with per-request queries). */
const MAX_REMEMBERED_URLS = 1000;

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Map a transport failure (no HTTP answer) to what it means for the caller and for failover. */
export function transportErrorInfo(error: unknown, channelName: string, totalDeadlineHit: boolean): UpstreamErrorInfo {
  const code = (error as { code?: string } | null)?.code ?? '';
  if (totalDeadlineHit || TIMEOUT_CODES.has(code)) {
    return {
      status: 504,
      code: 'upstream_timeout',
      message: `Upstream ${channelName} did not answer in time`,
      retryable: true,
    };
  }
  const detail = code || (error instanceof Error ? error.message : 'connection failed');
  return {
    status: 502,
    code: 'upstream_error',
    message: `Could not reach upstream ${channelName} (${detail})`,
    retryable: true,
  };
}

/** Read a whole (small) upstream body as text, e.g. an error body. */
export async function readText(body: AsyncIterable<Buffer>, limit = 64 * 1024): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    if (text.length < limit) text += (chunk as Buffer).toString('utf8');
  }
  return text.length > limit ? text.slice(0, limit) : text;
}
