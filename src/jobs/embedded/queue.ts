import { type Clock, systemClock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import type { DatabaseHandle } from '../../infra/db/client.js';
import { backoffDelay, cronProblem, DEFAULT_BACKOFF, nextCronRun } from '../policy.js';
import { type JobLog, JobRegistry } from '../registry.js';
import {
  type EnqueueOptions,
  JobInterrupted,
  type JobQuery,
  type JobQueue,
  type JobRecord,
  type JobState,
  type ScheduleDefinition,
  type ScheduleRecord,
} from '../types.js';
import { type JobRow, JobStore } from './store.js';

/** After the grace period, how long aborted handlers get to stop at a checkpoint before their jobs are re-queued. */
const ABORT_DRAIN_MS = 10_000;

export interface EmbeddedQueueOptions {
  database: DatabaseHandle;
  newId: IdGenerator;
  clock?: Clock;
  random?: () => number;
  /** How often an idle worker looks for due jobs and schedules (default 1000 ms). */
  pollMs?: number;
  /** A running job not heartbeaten for this long is taken back (default 30 s; heartbeats every third of it). */
  leaseMs?: number;
  log?: JobLog;
}

interface Running {
  row: JobRow;
  controller: AbortController;
  /** Why its signal aborted, if it did. */
  reason?: 'cancel' | 'timeout' | 'shutdown' | 'lost';
  done: Promise<void>;
}

/**
 * The default queue: jobs live in the application database (SQLite, or PostgreSQL where the claim uses
 * `FOR UPDATE SKIP LOCKED`), and workers in this process poll for them. A claimed job is leased to its worker,
 * which renews the lease while the job runs; a worker killed mid-job lets its lease run out and another
 * worker takes the job back.
 */
export class EmbeddedJobQueue implements JobQueue {
  readonly backend = 'embedded' as const;
  readonly #store: JobStore;
  readonly #registry: JobRegistry;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #newId: IdGenerator;
  readonly #pollMs: number;
  readonly #leaseMs: number;
  readonly #workerId: string;
  readonly #running = new Map<string, Running>();
  #working = false;
  /** Aborted when `stop` begins (the handlers' `stopping`); a new one on each `start`. */
  #stopping = new AbortController();
  #polling: Promise<void> | undefined;
  #again = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #lastReap = 0;
  #lastSchedules = 0;

  constructor(options: EmbeddedQueueOptions) {
    this.#store = new JobStore(options.database.db, options.database.engine);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#newId = options.newId;
    this.#pollMs = options.pollMs ?? 1_000;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#registry = new JobRegistry(options.log);
    this.#workerId = options.newId('wrk');
  }

  define: JobQueue['define'] = (definition) => this.#registry.define(definition);
  definitionOf: JobQueue['definitionOf'] = (type) => (this.#registry.has(type) ? this.#registry.type(type) : undefined);

  schedule(definition: ScheduleDefinition): void {
    const problem = cronProblem(definition.cron, this.#clock.now());
    if (problem) throw new Error(`schedule ${definition.name}: ${problem}`);
    this.#registry.schedule(definition);
  }

  async enqueue(type: string, payload: unknown, options: EnqueueOptions = {}): Promise<JobRecord> {
    const definition = this.#registry.type(type);
    const now = this.#clock.now();
    const { row } = await this.#store.insert(
      {
        id: this.#newId('job'),
        type,
        org_id: options.orgId ?? null,
        user_id: options.userId ?? null,
        payload: JSON.stringify(payload ?? null),
        priority: options.priority ?? 0,
        max_attempts: Math.max(1, options.attempts ?? definition.attempts ?? 3),
        timeout_ms: options.timeoutMs ?? definition.timeoutMs ?? null,
        run_at: now + Math.max(0, options.delayMs ?? 0),
        schedule_name: null,
        unique_key: options.uniqueKey ?? null,
        created_at: now,
      },
      options.parents ?? [],
    );
    if (this.#working && !options.delayMs) this.#wake();
    return toRecord(row, options.parents ?? []);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = await this.#store.get(id);
    if (!row) return undefined;
    return toRecord(row, (await this.#store.parentsOf([id])).get(id) ?? []);
  }

  async list(query: JobQuery): Promise<{ data: JobRecord[]; total: number }> {
    const { rows, total } = await this.#store.list(query);
    const parents = await this.#store.parentsOf(rows.map((r) => r.id));
    return { data: rows.map((r) => toRecord(r, parents.get(r.id) ?? [])), total };
  }

  async cancel(id: string): Promise<JobRecord | undefined> {
    const row = await this.#store.cancel(id, this.#clock.now());
    const local = this.#running.get(id);
    if (local && row?.state === 'running') this.#abort(local, 'cancel');
    return row ? this.get(id) : undefined;
  }

  async retry(id: string): Promise<JobRecord | undefined> {
    const row = await this.#store.retry(id, this.#clock.now());
    if (row?.state === 'queued' && this.#working) this.#wake();
    return row ? this.get(id) : undefined;
  }

  remove(id: string): Promise<'removed' | 'running' | 'missing'> {
    return this.#store.remove(id);
  }

  async schedules(): Promise<ScheduleRecord[]> {
    return (await this.#store.listSchedules()).map((s) => ({
      name: s.name,
      type: s.type,
      cron: s.cron,
      enabled: s.enabled === 1,
      nextRunAt: s.next_run_at,
      lastRunAt: s.last_run_at,
    }));
  }

  async setScheduleEnabled(name: string, enabled: boolean): Promise<ScheduleRecord | undefined> {
    const row = await this.#store.getSchedule(name);
    if (!row) return undefined;
    const now = this.#clock.now();
    // Enabling again starts from the next tick, not from the ones missed while disabled.
    await this.#store.setScheduleEnabled(name, enabled, enabled ? nextCronRun(row.cron, now) : row.next_run_at, now);
    return (await this.schedules()).find((s) => s.name === name);
  }

  async start(options: { workers?: boolean } = {}): Promise<void> {
    const now = this.#clock.now();
    for (const definition of this.#registry.schedules()) {
      const existing = await this.#store.getSchedule(definition.name);
      const next = nextCronRun(definition.cron, now);
      await this.#store.upsertSchedule({
        name: definition.name,
        type: definition.type,
        cron: definition.cron,
        payload: JSON.stringify(definition.payload ?? null),
        enabled: 1,
        next_run_at: next,
        last_run_at: null,
        created_at: now,
        updated_at: now,
      });
      if (existing && existing.cron !== definition.cron) await this.#store.setNextRun(definition.name, next, now);
    }
    if (options.workers === false || this.#working) return;
    this.#working = true;
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    this.#wake();
    this.#heartbeat();
  }

  async stop(graceMs = 30_000): Promise<void> {
    if (!this.#working) return;
    this.#working = false;
    this.#stopping.abort(new Error('shutdown'));
    clearTimeout(this.#pollTimer);
    await this.#polling;
    const all = () => Promise.all([...this.#running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      all().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      // Past the grace period: abort what still runs, give the handlers a moment to stop at a checkpoint (their
      // writes must land before the database closes), and put the jobs back in the queue for another worker.
      const left = [...this.#running.values()];
      for (const running of left) this.#abort(running, 'shutdown');
      await Promise.race([
        Promise.all(left.map((r) => r.done)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.min(graceMs, ABORT_DRAIN_MS));
        }),
      ]);
      clearTimeout(timer);
      const now = this.#clock.now();
      await Promise.all(left.map((r) => this.#store.finish(r.row.id, this.#workerId, { state: 'requeued' }, now)));
      this.#running.clear();
    }
    clearTimeout(this.#heartbeatTimer);
  }

  /**
   * What a kill -9 leaves behind, for tests: polling and lease renewals stop, running jobs stay claimed (their
   * handlers' outcomes are dropped), so another worker takes them back once their lease has passed.
   */
  async abandon(): Promise<void> {
    this.#working = false;
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#heartbeatTimer);
    await this.#polling;
    for (const running of this.#running.values()) running.reason = 'lost';
    this.#running.clear();
    clearTimeout(this.#heartbeatTimer);
  }

  /** Poll now (or right after the poll in progress). */
  #wake(): void {
    if (!this.#working) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#pollTimer);
    this.#polling = this.#poll()
      .catch((error: unknown) => this.#registry.log?.error({ err: error }, 'job queue: polling failed'))
      .finally(() => {
        this.#polling = undefined;
        if (!this.#working) return;
        if (this.#again) {
          this.#again = false;
          setImmediate(() => this.#wake());
        } else this.#pollTimer = setTimeout(() => this.#wake(), this.#pollMs);
      });
  }

  async #poll(): Promise<void> {
    const now = this.#clock.now();
    if (now - this.#lastReap >= this.#leaseMs / 2) {
      this.#lastReap = now;
      await this.#store.reapExpired(now);
      await this.#store.repairWaiting(now);
    }
    if (now - this.#lastSchedules >= this.#pollMs) {
      this.#lastSchedules = now;
      await this.#fireSchedules(now);
    }
    for (const definition of this.#registry.types()) {
      const busy = [...this.#running.values()].filter((r) => r.row.type === definition.type).length;
      const free = (definition.concurrency ?? 1) - busy;
      if (free <= 0 || !this.#working) continue;
      const rows = await this.#store.claim(definition.type, free, now, this.#workerId, now + this.#leaseMs);
      for (const row of rows) this.#run(row);
      if (rows.length === free) this.#again = true;
    }
  }

  async #fireSchedules(now: number): Promise<void> {
    const names = this.#registry.schedules().map((s) => s.name);
    for (const due of await this.#store.dueSchedules(now, names)) {
      const tick = due.next_run_at;
      // The unique key makes this tick run once, whichever instance gets here first.
      await this.#store.insert(
        {
          id: this.#newId('job'),
          type: due.type,
          org_id: null,
          user_id: null,
          payload: due.payload,
          priority: 0,
          max_attempts: this.#registry.type(due.type).attempts ?? 3,
          timeout_ms: this.#registry.type(due.type).timeoutMs ?? null,
          run_at: now,
          schedule_name: due.name,
          unique_key: `schedule:${due.name}:${tick}`,
          created_at: now,
        },
        [],
      );
      await this.#store.advanceSchedule(due.name, tick, nextCronRun(due.cron, Math.max(now, tick)), now);
    }
  }

  #run(row: JobRow): void {
    const definition = this.#registry.type(row.type);
    const controller = new AbortController();
    const running: Running = { row, controller, done: Promise.resolve() };
    this.#running.set(row.id, running);
    running.done = this.#execute(running, definition).finally(() => {
      if (this.#running.get(row.id) === running) this.#running.delete(row.id);
      this.#wake();
    });
  }

  async #execute(running: Running, definition: ReturnType<JobRegistry['type']>): Promise<void> {
    const { row, controller } = running;
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = definition.handler({
        id: row.id,
        type: row.type,
        payload: JSON.parse(row.payload) as unknown,
        attempt: row.attempts,
        signal: controller.signal,
        stopping: this.#stopping.signal,
        progress: async (percent, message) => {
          const clamped = Math.max(0, Math.min(100, Math.round(percent)));
          await this.#store.progress(row.id, this.#workerId, clamped, message ?? null, this.#clock.now());
        },
      });
      const timeoutMs = row.timeout_ms;
      const result = timeoutMs
        ? await Promise.race([
            work,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                this.#abort(running, 'timeout');
                reject(new Error(`timed out after ${timeoutMs} ms`));
              }, timeoutMs);
            }),
          ])
        : await work;
      if (running.reason === 'shutdown' || running.reason === 'lost') return;
      await this.#store.finish(
        row.id,
        this.#workerId,
        { state: 'succeeded', result: JSON.stringify(result ?? null) },
        this.#clock.now(),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const now = this.#clock.now();
      if (running.reason === 'shutdown' || running.reason === 'lost') return;
      if (error instanceof JobInterrupted && !running.reason) {
        await this.#store.finish(row.id, this.#workerId, { state: 'requeued' }, now);
      } else if (running.reason === 'cancel') {
        await this.#store.finish(row.id, this.#workerId, { state: 'cancelled', error: 'cancelled' }, now);
      } else if (row.attempts < row.max_attempts) {
        const delay = backoffDelay(definition.backoff ?? DEFAULT_BACKOFF, row.attempts, this.#random);
        await this.#store.finish(
          row.id,
          this.#workerId,
          { state: 'queued', error: message, retryAt: now + delay },
          now,
        );
      } else {
        await this.#store.finish(row.id, this.#workerId, { state: 'failed', error: message }, now);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  #abort(running: Running, reason: NonNullable<Running['reason']>): void {
    if (running.reason) return;
    running.reason = reason;
    running.controller.abort(new Error(reason === 'cancel' ? 'cancelled' : reason));
  }

  /** Renew the leases of the jobs running here, and learn which were cancelled from elsewhere. */
  #heartbeat(): void {
    this.#heartbeatTimer = setTimeout(
      async () => {
        const ids = [...this.#running.keys()];
        try {
          const stop = await this.#store.heartbeat(this.#workerId, ids, this.#clock.now() + this.#leaseMs);
          for (const id of stop) {
            const running = this.#running.get(id);
            if (running) this.#abort(running, (await this.#store.get(id))?.state === 'running' ? 'cancel' : 'lost');
          }
        } catch (error) {
          this.#registry.log?.error({ err: error }, 'job queue: renewing leases failed');
        }
        if (this.#working || this.#running.size > 0) this.#heartbeat();
      },
      Math.max(10, Math.floor(this.#leaseMs / 3)),
    );
  }
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function toRecord(row: JobRow, parents: string[]): JobRecord {
  return {
    id: row.id,
    type: row.type,
    state: row.state as JobState,
    orgId: row.org_id,
    userId: row.user_id,
    payload: parseJson(row.payload),
    result: parseJson(row.result),
    error: row.error,
    priority: row.priority,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    progress: row.progress,
    progressMessage: row.progress_message,
    parents,
    scheduleName: row.schedule_name,
    runAt: row.run_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
