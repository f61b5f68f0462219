import { once } from 'node:events';
import type { FastifyReply } from 'fastify';

/**
 * The client side of one /v1 response: an AbortSignal that fires when the client goes away (so the
 * upstream request is aborted, DESIGN.md §2 rule 5), and a lazily started SSE writer with backpressure.
 */
export class ClientStream {
  readonly #controller = new AbortController();
  #started = false;
  #ended = false;

  constructor(
    private readonly reply: FastifyReply,
    /** Extra response headers, computed when the stream starts (the serving channel is known by then). */
    private readonly headers: () => Record<string, string> = () => ({}),
  ) {
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) this.#controller.abort(new Error('client closed the connection'));
    });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The client went away before the answer was complete. */
  get gone(): boolean {
    return this.#controller.signal.aborted;
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
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': this.reply.request.id,
      ...this.headers(),
    });
  }

  /** Write SSE text, waiting for the socket to drain when the client reads slowly. */
  async write(text: string): Promise<void> {
    if (!text || this.gone || this.#ended) return;
    this.begin();
    if (!this.reply.raw.write(text)) {
      await Promise.race([once(this.reply.raw, 'drain'), once(this.#controller.signal, 'abort')]);
    }
  }

  end(text = ''): void {
    if (this.#ended) return;
    this.#ended = true;
    this.begin();
    if (this.gone) return;
    this.reply.raw.end(text);
  }
}
