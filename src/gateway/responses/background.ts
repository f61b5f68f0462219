/**
 * Background responses (`background: true`): the request is answered at once with a `queued` response,
 * and runs on through the whole pipeline with a stand-in for the client that has already gone home. Its
 * "client leaving" is the cancel: `POST /v1/responses/{id}/cancel` aborts the upstream request the way a
 * disconnect does. Runs live in the process that accepted them (a restart loses the runs in flight; their
 * rows stay `queued`).
 */
import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';

/**
 * What the pipeline writes a non-stream answer to: headers and the body are dropped (the stored response
 * is the answer); `raw` emits `close` on cancel, which the pipeline hears as the client leaving.
 */
class DetachedReply {
  readonly raw = Object.assign(new EventEmitter(), { writableFinished: false });

  headers(): this {
    return this;
  }

  header(): this {
    return this;
  }

  type(): this {
    return this;
  }
}

export class BackgroundRuns {
  readonly #running = new Map<string, DetachedReply>();

  /** Start `run` for response `id`; `settled` gets its outcome (the error, if it failed or was cancelled). */
  start(id: string, run: (reply: FastifyReply) => Promise<unknown>, settled: (error: unknown) => void): void {
    const reply = new DetachedReply();
    this.#running.set(id, reply);
    run(reply as unknown as FastifyReply)
      .then(
        () => settled(undefined),
        (error: unknown) => settled(error ?? new Error('background run failed')),
      )
      .finally(() => this.#running.delete(id));
  }

  /** Abort the run of `id` if this process runs it; false when it does not. */
  cancel(id: string): boolean {
    const reply = this.#running.get(id);
    if (!reply) return false;
    reply.raw.emit('close');
    return true;
  }

  get size(): number {
    return this.#running.size;
  }
}
