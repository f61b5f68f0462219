import type { FastifyReply } from 'fastify';

/** What the dispatcher needs to know of the client: whether it left, and a way to hear when it does. */
export interface ClientPresence {
  /** The client went away before the answer was complete. */
  readonly gone: boolean;
  /** Call `listener` once when the client leaves; the returned function stops listening. */
  onGone(listener: () => void): () => void;
}

/**
 * The client side of one /v1 response: tells when the client goes away (so the upstream request is
 * aborted, DESIGN.md §2 rule 5), and a lazily started SSE writer with backpressure. A plain flag and
 * listener set rather than an AbortController: creating an AbortSignal costs several microseconds on
 * Node 20, on every request, and most requests never need one.
 */
export class ClientStream implements ClientPresence {
  #gone = false;
  #listeners: Set<() => void> | undefined;
  #started = false;
  #ended = false;
  /** What was written, kept when the request log keeps bodies (`record`), up to #recordMax characters. */
  #transcript: string | undefined;
  #recordMax = 0;

  constructor(
    private readonly reply: FastifyReply,
    /** Extra response headers, computed when the stream starts (the serving channel is known by then). */
    private readonly headers: () => Record<string, string> = () => ({}),
  ) {
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) this.leave();
    });
  }

  get gone(): boolean {
    return this.#gone;
  }

  /** Keep what is written to the client, up to `maxChars` characters and one more (so a cut shows). */
  record(maxChars: number): void {
    this.#transcript ??= '';
    // The request log and the response cache may both ask: keep the longer.
    this.#recordMax = Math.max(this.#recordMax, maxChars + 1);
  }

  /** What was written so far (empty unless `record` was called). */
  get transcript(): string {
    return this.#transcript ?? '';
  }

  private keep(text: string): void {
    const room = this.#recordMax - (this.#transcript as string).length;
    if (room > 0) this.#transcript += room >= text.length ? text : text.slice(0, room);
  }

  onGone(listener: () => void): () => void {
    if (this.#gone) {
      listener();
      return () => undefined;
    }
    this.#listeners ??= new Set();
    const listeners = this.#listeners;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  private leave(): void {
    if (this.#gone) return;
    this.#gone = true;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }

  /** Whether the answer was ended (the stream's last write done). */
  get ended(): boolean {
    return this.#ended && !this.#gone;
  }

  /** Whether response headers were sent (after this, errors go into the stream, not the status). */
  get started(): boolean {
    return this.#started;
  }

  begin(): void {
    if (this.#started) return;
    this.#started = true;
    this.reply.hijack();
    this.reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // HTTP/2 forbids connection-specific headers (Node throws on them).
      ...(this.reply.request.raw.httpVersionMajor === 2 ? {} : { connection: 'keep-alive' }),
      'x-accel-buffering': 'no',
      'x-request-id': this.reply.request.id,
      ...this.headers(),
    });
  }

  /**
   * Write SSE text. Returns a promise to await only when the client reads slowly (resolves once the socket
   * drained or the client left); otherwise undefined, so a stream's pump costs no promise per chunk.
   */
  write(text: string): Promise<void> | undefined {
    if (!text || this.#gone || this.#ended) return undefined;
    this.begin();
    if (this.#transcript !== undefined) this.keep(text);
    return this.reply.raw.write(text) ? undefined : this.drained();
  }

  /** Resolves when the socket drained or the client left. */
  private drained(): Promise<void> {
    const raw = this.reply.raw;
    return new Promise<void>((resolve) => {
      let stop: (() => void) | undefined;
      const done = () => {
        raw.off('drain', done);
        stop?.();
        resolve();
      };
      raw.once('drain', done);
      stop = this.onGone(done);
    });
  }

  end(text = ''): void {
    if (this.#ended) return;
    this.#ended = true;
    this.begin();
    if (this.#gone) return;
    if (this.#transcript !== undefined && text) this.keep(text);
    this.reply.raw.end(text);
  }
}
