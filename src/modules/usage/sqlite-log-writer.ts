import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { RollupWrite } from '../analytics/writer.js';

/** One batch for the writer: parameter arrays of the prepared inserts, and keys' latest use. */
export interface LogBatch {
  /** Each entry: the row count of a prepared insert and its parameters (rows × columns, in order). */
  chunks: Array<{ rows: number; parameters: unknown[] }>;
  /** `[keyId, at]`: set api_keys.last_used_at to `at` where it is older. */
  touches: Array<[string, number]>;
  /** Analytics rollup rows to upsert in the same transaction: `[table, parameters]` (see analytics/writer.ts). */
  rollups: RollupWrite[];
}

/** Writes request-log batches somewhere other than the event loop's thread. */
export interface LogWriter {
  write(batch: LogBatch): Promise<void>;
  close(): Promise<void>;
}

/**
 * The writer thread's code (CommonJS, evaluated: runs the same from dist/ and under the test runner). It
 * opens its own connection to the database file with the server's settings, prepares the inserts once, and
 * writes each batch (rows, then keys' last use) in one transaction.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.pragma('temp_store = MEMORY');
const inserts = new Map();
const insert = (rows) => {
  let statement = inserts.get(rows);
  if (!statement) {
    statement = db.prepare(workerData.insertSql[rows]);
    inserts.set(rows, statement);
  }
  return statement;
};
const touch = db.prepare(workerData.touchSql);
const upserts = new Map();
const upsert = (table) => {
  let statement = upserts.get(table);
  if (!statement) {
    statement = db.prepare(workerData.rollupSql[table]);
    upserts.set(table, statement);
  }
  return statement;
};
const write = db.transaction((batch) => {
  for (const chunk of batch.chunks) insert(chunk.rows).run(chunk.parameters);
  for (const [keyId, at] of batch.touches) touch.run(at, keyId, at);
  for (const [table, parameters] of batch.rollups) upsert(table).run(parameters);
});
parentPort.on('message', (message) => {
  if (message.close) {
    db.close();
    parentPort.postMessage({ id: message.id, ok: true });
    return;
  }
  try {
    write(message.batch);
    parentPort.postMessage({ id: message.id, ok: true });
  } catch (error) {
    parentPort.postMessage({ id: message.id, ok: false, message: String(error && error.message || error) });
  }
});
`;

interface Waiting {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * SQLite request-log writer on a worker thread: SQLite writes synchronously, so on the event loop's thread
 * every log row cost ~6 µs of request-serving time (the largest single item of the hot path's profile).
 * WAL mode lets the server's own connection keep reading while this one writes. A worker that fails to
 * start or dies fails the writes in flight (the recorder keeps those rows and retries) and is started
 * again by the next write.
 */
export class SqliteLogWriter implements LogWriter {
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;

  constructor(
    private readonly file: string,
    /** Insert SQL by row count (positional parameters, columns in the recorder's order). */
    private readonly insertSql: Record<number, string>,
    /** `update api_keys set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)`. */
    private readonly touchSql: string,
    /** The one-row analytics rollup upsert of each rollup table (`?` placeholders). */
    private readonly rollupSql: Record<string, string>,
  ) {}

  write(batch: LogBatch): Promise<void> {
    return this.send({ batch });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    await this.send({ close: true }).catch(() => undefined);
    this.#worker = undefined;
    await worker.terminate();
  }

  private send(message: { batch: LogBatch } | { close: true }): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = this.worker();
      const id = this.#nextId++;
      this.#waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, ...message });
    });
  }

  private worker(): Worker {
    if (this.#worker) return this.#worker;
    const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driverPath,
        file: this.file,
        insertSql: this.insertSql,
        touchSql: this.touchSql,
        rollupSql: this.rollupSql,
      },
    });
    worker.unref();
    worker.on('message', (reply: { id: number; ok: boolean; message?: string }) => {
      const waiting = this.#waiting.get(reply.id);
      if (!waiting) return;
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) worker.unref();
      if (reply.ok) waiting.resolve();
      else waiting.reject(new Error(`request log write failed: ${reply.message}`));
    });
    const lost = (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const waiting of this.#waiting.values()) waiting.reject(error);
      this.#waiting.clear();
    };
    worker.on('error', (error) => lost(error));
    worker.on('exit', (code) => lost(new Error(`request log writer exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }
}
