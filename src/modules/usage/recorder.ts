import { CompiledQuery, type Kysely } from 'kysely';
import type { UsageSink } from '../../gateway/ports.js';
import type { Database, RequestLogsTable } from '../../infra/db/schema.js';
import { type RollupWrite, rollupStatements, rollupsOf, writeRollups } from '../analytics/writer.js';
import { type LogBatch, type LogWriter, SqliteLogWriter } from './sqlite-log-writer.js';

/** Every column of a request log row, in a fixed order (the type check below keeps it complete). */
const LOG_COLUMNS = [
  'id',
  'at',
  'user_id',
  'key_id',
  'org_id',
  'team_id',
  'channel_id',
  'model',
  'upstream_model',
  'endpoint',
  'stream',
  'status',
  'error_code',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'estimated',
  'cost_micros',
  'price_micros',
  'latency_ms',
  'ttft_ms',
  'client_ip',
  'attempts',
  'request_body',
  'response_body',
  'batch_id',
  'cache',
] as const satisfies ReadonlyArray<keyof RequestLogsTable>;
type MissingColumn = Exclude<keyof RequestLogsTable, (typeof LOG_COLUMNS)[number]>;
const allColumnsListed: [MissingColumn] extends [never] ? true : MissingColumn = true;
void allColumnsListed;

/**
 * Row counts an insert statement is built for; a batch is written as a few of them (500 = 7×64 + 3×16 + 4).
 * A handful of fixed statements are compiled once and (on SQLite) prepared once, instead of building,
 * compiling and preparing a new multi-row statement for every batch. 64 rows take about a millisecond on
 * SQLite (which writes on the event loop's thread), and requests are served between chunks.
 */
const CHUNK_SIZES = [64, 16, 4, 1] as const;

export interface UsageRecorderOptions {
  /** Flush at least this often. */
  intervalMs?: number;
  /** Flush as soon as this many records wait. */
  batchSize?: number;
  /** Records kept in memory while the database is unreachable; beyond it the oldest are dropped and logged. */
  maxBuffered?: number;
  onError?: (error: unknown, pending: number) => void;
  /**
   * The SQLite database file: write from a worker thread with its own connection, off the event loop's
   * thread. Without it, rows are written through `db` (PostgreSQL's writes are asynchronous already).
   */
  sqliteFile?: string | undefined;
}

/**
 * Batched, asynchronous writer of request logs: the request path only pushes to an array (never awaits
 * the database); a timer writes multi-row inserts — on SQLite from a worker thread (`sqliteFile`). `close()`
 * flushes everything (graceful shutdown).
 */
export class UsageRecorder implements UsageSink {
  #buffer: RequestLogsTable[] = [];
  #flushing: Promise<void> | undefined;
  /** The flush a full buffer started (see `record`). */
  #draining: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;
  /** Requests whose row was announced (`expect`) and not handed over yet (`fulfil`). */
  #expected = 0;
  /** Who waits in `settled` for #expected to reach zero (created only while someone waits). */
  #settledWaiters: Set<() => void> | undefined;
  /** Set by `close`: a row recorded after it could no longer be written. */
  #closed = false;
  /** Records still waiting for their token counts (see `track`). */
  readonly #awaiting = new Set<Promise<void>>();
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #intervalMs: number;
  #onError: (error: unknown, pending: number) => void;
  #onFlushed: ((ms: number, rows: number) => void) | undefined;
  /** Compiled insert SQL by row count, and the column of each parameter of one row. */
  readonly #insertSql = new Map<number, string>();
  #columnOrder: ReadonlyArray<(typeof LOG_COLUMNS)[number]> | undefined;
  readonly #sqliteFile: string | undefined;
  #writer: LogWriter | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    options: UsageRecorderOptions = {},
  ) {
    this.#batchSize = options.batchSize ?? 500;
    this.#maxBuffered = options.maxBuffered ?? 200_000;
    this.#intervalMs = options.intervalMs ?? 500;
    this.#onError = options.onError ?? (() => undefined);
    this.#sqliteFile = options.sqliteFile;
  }

  /**
   * A request was admitted and its row will follow (`fulfil` once it is recorded or tracked). A shutdown
   * waits for these (`settled`): a stream's row can come after its client already has the whole answer.
   */
  expect(): void {
    this.#expected++;
  }

  /** The row announced by `expect` was handed over (`record` or `track`). */
  fulfil(): void {
    this.#expected--;
    if (this.#expected > 0 || !this.#settledWaiters) return;
    const waiters = this.#settledWaiters;
    this.#settledWaiters = undefined;
    for (const done of waiters) done();
  }

  /** Requests admitted whose row has not been handed over yet. */
  get outstanding(): number {
    return this.#expected;
  }

  /**
   * Resolves once every announced row was handed over (true), or after `timeoutMs` with some still
   * outstanding (false). The process's shutdown waits here before it closes the recorder.
   */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.#expected <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.#settledWaiters ??= new Set();
      const waiters = this.#settledWaiters;
      const timer = setTimeout(() => {
        waiters.delete(done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      waiters.add(done);
    });
  }

  /** Queue one record. Never throws, never waits. */
  record(row: RequestLogsTable): void {
    if (this.#closed) {
      // Nothing writes any more: say so loudly rather than lose the row in silence.
      this.#dropped++;
      this.#onError(new Error(`request log row ${row.id} arrived after the log was closed; it is lost`), 1);
      return;
    }
    this.#buffer.push(row);
    if (this.#buffer.length > this.#maxBuffered) {
      this.#buffer.shift();
      this.#dropped++;
    }
    if (this.#buffer.length >= this.#batchSize) {
      // One drain at a time: it writes until the buffer is empty, rows queued meanwhile included (a flush
      // per record would leave one waiter per record queued behind the write in flight).
      if (!this.#draining)
        this.#draining = this.flush().finally(() => {
          this.#draining = undefined;
        });
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#intervalMs);
      this.#timer.unref();
    }
  }

  /**
   * A record that `pending` queues once it settles (its tokens are still being counted). `flush` and
   * `close` wait for it, so it is written before anyone reads the log or the process exits.
   */
  track(pending: Promise<void>): void {
    const tracked: Promise<void> = pending
      .catch((error: unknown) => this.#onError(error, this.#buffer.length))
      .finally(() => this.#awaiting.delete(tracked));
    this.#awaiting.add(tracked);
  }

  /** Tell `listener` how long each written batch took (ms) and its rows: the flush-latency metric. */
  observeFlushes(listener: (ms: number, rows: number) => void): void {
    this.#onFlushed = listener;
  }

  /** Where write failures are reported (the server log); replaces the constructor's `onError`. */
  reportErrorsTo(handler: (error: unknown, pending: number) => void): void {
    this.#onError = handler;
  }

  get pending(): number {
    return this.#buffer.length;
  }

  /** True once `close` ran: nothing is written any more. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Records dropped because the buffer overflowed while the database was down (or came after `close`). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Write everything queued so far. Concurrent calls share the write in progress. */
  async flush(): Promise<void> {
    while (this.#awaiting.size > 0) await Promise.all(this.#awaiting);
    while (this.#flushing) await this.#flushing;
    if (this.#buffer.length === 0) return;
    this.#flushing = this.writeAll().finally(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  /**
   * Write everything and stop (a second call does nothing). Waits first (up to `waitMs`) for rows announced
   * by `expect` and not handed over yet; a row recorded after this is reported through `onError` and lost.
   */
  async close(options: { waitMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    if (options.waitMs) await this.settled(options.waitMs);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
    this.#closed = true;
    // Rows the last write could not take (the database failing, or a row queued after it) are lost now: say so.
    if (this.#buffer.length > 0) {
      this.#dropped += this.#buffer.length;
      this.#onError(new Error(`${this.#buffer.length} request log rows could not be written before closing`), 0);
      this.#buffer = [];
    }
    await this.#writer?.close();
    this.#writer = undefined;
  }

  /** Keep api_keys.last_used_at current: one update per key per batch, off the request path. */
  private async touchKeys(batch: RequestLogsTable[]): Promise<void> {
    for (const [keyId, at] of latestUse(batch)) {
      await this.db
        .updateTable('api_keys')
        .set({ last_used_at: at })
        .where('id', '=', keyId)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
        .execute()
        .catch((error: unknown) => this.#onError(error, this.#buffer.length));
    }
  }

  /**
   * Insert rows all or nothing: one statement per chunk, in one transaction when it takes several, letting
   * the event loop serve requests between chunks (a synchronous SQLite write of a whole batch would stall
   * every request in flight for several milliseconds).
   */
  private async insert(rows: RequestLogsTable[]): Promise<void> {
    const chunks = chunkSizes(rows.length);
    // The analytics rollups of the batch are upserted in the same transaction: they never disagree with the log.
    const rollups = rollupsOf(rows);
    await this.db.transaction().execute(async (trx) => {
      let offset = 0;
      for (const size of chunks) {
        if (offset > 0) await new Promise((resolve) => setImmediate(resolve));
        await trx.executeQuery(this.insertQuery(rows, offset, size));
        offset += size;
      }
      await writeRollups(trx, rollups);
    });
  }

  /** The writer thread (started with the first batch). */
  private writer(): LogWriter {
    if (this.#writer) return this.#writer;
    const insertSql: Record<number, string> = {};
    for (const size of CHUNK_SIZES) insertSql[size] = this.insertSqlFor(size);
    // Compiled with marker values, so the parameter order is read rather than assumed.
    const touch = this.db
      .updateTable('api_keys')
      .set({ last_used_at: 1 })
      .where('id', '=', 'key')
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', 2)]))
      .compile();
    if (touch.parameters.join() !== '1,key,2') throw new Error('unexpected update statement shape');
    this.#writer = new SqliteLogWriter(this.#sqliteFile as string, insertSql, touch.sql, rollupStatements());
    return this.#writer;
  }

  /** A batch for the writer thread: the parameters of each insert chunk, and each key's latest use. */
  private logBatch(rows: RequestLogsTable[]): LogBatch {
    const chunks: LogBatch['chunks'] = [];
    let offset = 0;
    for (const size of chunkSizes(rows.length)) {
      chunks.push({ rows: size, parameters: this.insertQuery(rows, offset, size).parameters as unknown[] });
      offset += size;
    }
    const rollups: RollupWrite[] = rollupsOf(rows);
    return { chunks, touches: [...latestUse(rows)], rollups };
  }

  /** `insert into request_logs … values (…), (…)` for rows[offset, offset + count), with its parameters. */
  private insertQuery(rows: RequestLogsTable[], offset: number, count: number): CompiledQuery {
    const sql = this.insertSqlFor(count);
    const columns = this.#columnOrder ?? this.learnColumnOrder();
    // Built by push, not into a pre-sized array: a pre-sized array is "holey" to V8, and the structured
    // clone that hands a batch to the writer thread copies holey arrays element by element as sparse
    // ones (~2.5 × slower, measured).
    const parameters: unknown[] = [];
    for (let r = offset; r < offset + count; r++) {
      const row = rows[r] as RequestLogsTable;
      for (const column of columns) parameters.push(row[column] ?? null);
    }
    return CompiledQuery.raw(sql, parameters);
  }

  /** The insert statement for `count` rows, compiled once. */
  private insertSqlFor(count: number): string {
    let sql = this.#insertSql.get(count);
    const columns = this.#columnOrder ?? this.learnColumnOrder();
    if (sql === undefined) {
      // Compile once through Kysely (its dialect's quoting and placeholders), with each column's index as
      // the value, so the parameter order is read from the compiled query rather than assumed.
      const template = Object.fromEntries(LOG_COLUMNS.map((c, i) => [c, i])) as unknown as RequestLogsTable;
      const compiled = this.db.insertInto('request_logs').values(new Array(count).fill(template)).compile();
      if (compiled.parameters.length !== count * columns.length) throw new Error('unexpected insert statement shape');
      sql = compiled.sql;
      this.#insertSql.set(count, sql);
    }
    return sql;
  }

  private learnColumnOrder(): ReadonlyArray<(typeof LOG_COLUMNS)[number]> {
    const template = Object.fromEntries(LOG_COLUMNS.map((c, i) => [c, i])) as unknown as RequestLogsTable;
    const { parameters } = this.db.insertInto('request_logs').values(template).compile();
    const order = parameters.map((index) => LOG_COLUMNS[index as number]);
    if (order.length !== LOG_COLUMNS.length || order.some((c) => c === undefined))
      throw new Error('unexpected insert statement shape');
    this.#columnOrder = order as ReadonlyArray<(typeof LOG_COLUMNS)[number]>;
    return this.#columnOrder;
  }

  private async writeAll(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.slice(0, this.#batchSize);
      const startedAt = performance.now();
      try {
        if (this.#sqliteFile !== undefined) {
          await this.writer().write(this.logBatch(batch));
          this.#buffer.splice(0, batch.length);
        } else {
          await this.insert(batch);
          this.#buffer.splice(0, batch.length);
          await this.touchKeys(batch);
        }
        this.#onFlushed?.(performance.now() - startedAt, batch.length);
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

/** Row counts of the fixed insert statements that make up `rows` rows (largest first). */
function chunkSizes(rows: number): number[] {
  const chunks: number[] = [];
  let left = rows;
  for (const size of CHUNK_SIZES) {
    while (left >= size) {
      chunks.push(size);
      left -= size;
    }
  }
  return chunks;
}

/** Each key's latest request time in `rows`. */
function latestUse(rows: RequestLogsTable[]): Map<string, number> {
  const lastUse = new Map<string, number>();
  for (const row of rows) if (row.key_id && (lastUse.get(row.key_id) ?? 0) < row.at) lastUse.set(row.key_id, row.at);
  return lastUse;
}
