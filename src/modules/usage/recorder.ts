import type { Kysely } from 'kysely';
import type { Database, RequestLogsTable } from '../../infra/db/schema.js';

export interface UsageRecorderOptions {
  /** Flush at least this often. */
  intervalMs?: number;
  /** Flush as soon as this many records wait. */
  batchSize?: number;
  /** Records kept in memory while the database is unreachable; beyond it the oldest are dropped and logged. */
  maxBuffered?: number;
  onError?: (error: unknown, pending: number) => void;
}

/**
 * Batched, asynchronous writer of request logs: the request path only pushes to an array (never awaits
 * the database); a timer writes multi-row inserts. `close()` flushes everything (graceful shutdown).
 */
export class UsageRecorder {
  #buffer: RequestLogsTable[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown, pending: number) => void;

  constructor(
    private readonly db: Kysely<Database>,
    options: UsageRecorderOptions = {},
  ) {
    this.#batchSize = options.batchSize ?? 500;
    this.#maxBuffered = options.maxBuffered ?? 200_000;
    this.#intervalMs = options.intervalMs ?? 500;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Queue one record. Never throws, never waits. */
  record(row: RequestLogsTable): void {
    this.#buffer.push(row);
    if (this.#buffer.length > this.#maxBuffered) {
      this.#buffer.shift();
      this.#dropped++;
    }
    if (this.#buffer.length >= this.#batchSize) void this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#intervalMs);
      this.#timer.unref();
    }
  }

  get pending(): number {
    return this.#buffer.length;
  }

  /** Records dropped because the buffer overflowed while the database was down. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Write everything queued so far. Concurrent calls share the write in progress. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#buffer.length === 0) return;
    this.#flushing = this.writeAll().finally(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Keep api_keys.last_used_at current: one update per key per batch, off the request path. */
  private async touchKeys(batch: RequestLogsTable[]): Promise<void> {
    const lastUse = new Map<string, number>();
    for (const row of batch) if (row.key_id && (lastUse.get(row.key_id) ?? 0) < row.at) lastUse.set(row.key_id, row.at);
    for (const [keyId, at] of lastUse) {
      await this.db
        .updateTable('api_keys')
        .set({ last_used_at: at })
        .where('id', '=', keyId)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
        .execute()
        .catch((error: unknown) => this.#onError(error, this.#buffer.length));
    }
  }

  private async writeAll(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.slice(0, this.#batchSize);
      try {
        await this.db.insertInto('request_logs').values(batch).execute();
        this.#buffer.splice(0, batch.length);
        await this.touchKeys(batch);
      } catch (error) {
        // Keep the rows and retry on the next tick; the request path is never affected.
        this.#onError(error, this.#buffer.length);
        if (!this.#timer) {
          this.#timer = setTimeout(
            () => {
              this.#timer = undefined;
              void this.flush();
            },
            Math.max(this.#intervalMs, 1000),
          );
          this.#timer.unref();
        }
        return;
      }
    }
  }
}
