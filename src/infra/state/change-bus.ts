import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What an instance changed that other instances hold in memory. */
export type Change =
  | { kind: 'settings' | 'catalog' | 'limits' | 'access-rules' | 'billing' }
  | { kind: 'key' | 'user' | 'team' | 'org'; id: string };

const WHOLE = new Set(['settings', 'catalog', 'limits', 'access-rules', 'billing']);
const ONE = new Set(['key', 'user', 'team', 'org']);

/** A change as it came over the wire, or undefined when it is not one (another version's, or garbage). */
export function parseChange(text: string): { from: string; change: Change } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { from, kind, id } = value as { from?: unknown; kind?: unknown; id?: unknown };
  if (typeof from !== 'string' || typeof kind !== 'string') return undefined;
  if (WHOLE.has(kind)) return { from, change: { kind } as Change };
  if (ONE.has(kind) && typeof id === 'string' && id !== '') return { from, change: { kind, id } as Change };
  return undefined;
}

/**
 * Tells the other instances of a deployment what this one changed (settings, channels and models, limit
 * policies, IP rules, keys and their owners), so they reload it at once instead of at their next periodic
 * refresh. Redis pub/sub: one channel per deployment prefix, messages from this instance ignored. Delivery
 * is at most once (a message sent while an instance is disconnected is lost); the periodic refresh stays as
 * the safety net.
 */
export class RedisChangeBus {
  readonly #id = randomBytes(8).toString('hex');
  readonly #channel: string;
  readonly #subscriber: Redis;
  readonly #listeners: Array<(change: Change) => unknown> = [];
  #onError: (error: unknown) => void = () => undefined;
  #closed = false;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.#channel = `${prefix}:changes`;
    // A connection in subscriber mode can send nothing else: a second one, with the same options.
    this.#subscriber = redis.duplicate();
    this.#subscriber.on('error', (error: unknown) => this.#onError(error));
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      const parsed = parseChange(message);
      if (!parsed || parsed.from === this.#id) return;
      for (const listener of this.#listeners) {
        try {
          const result = listener(parsed.change);
          if (result instanceof Promise) result.catch((error: unknown) => this.#onError(error));
        } catch (error) {
          this.#onError(error);
        }
      }
    });
  }

  /** Subscribe (resolves once Redis confirms, so a change published after it is seen). */
  async start(): Promise<void> {
    await this.#subscriber.subscribe(this.#channel);
  }

  /** Where failures go (the server's log); by default nowhere. */
  reportErrorsTo(onError: (error: unknown) => void): void {
    this.#onError = onError;
  }

  /** Called with each change another instance publishes (a rejected promise it returns is reported). */
  onRemote(listener: (change: Change) => unknown): void {
    this.#listeners.push(listener);
  }

  /** Tell the other instances; never throws (a failure is reported, the periodic refresh catches up). */
  publish(change: Change): void {
    if (this.#closed) return;
    this.redis
      .publish(this.#channel, JSON.stringify({ from: this.#id, ...change }))
      .catch((error: unknown) => this.#onError(error));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriber.disconnect();
  }
}
