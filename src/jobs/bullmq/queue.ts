import type { Worker } from 'bullmq';
import { type Clock, systemClock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import { backoffDelay, cronProblem, DEFAULT_BACKOFF } from '../policy.js';
import { type JobLog, JobRegistry } from '../registry.js';
import {
  type EnqueueOptions,
  JobInterrupted,
  type JobQuery,
  type JobQueue,
  type JobRecord,
  type JobTypeDefinition,
  type ScheduleDefinition,
  type ScheduleRecord,
} from '../types.js';
import { RedisSchedules } from './schedules.js';
import { type BullJob, BullStore, type JobData } from './store.js';

export interface BullMqQueueOptions {
  /** redis:// URL (REDIS_URL). */
  url: string;
  /** Prefix of every key (`<prefix>:bull:…` for BullMQ, `<prefix>:jobs:…` for ours); default `aihub`. */
  prefix?: string;
  newId: IdGenerator;
  clock?: Clock;
  random?: () => number;
  /** How often a worker fires due schedules and looks for cancels of its running jobs (default 1000 ms). */
  pollMs?: number;
  /** BullMQ's lock on a running job (renewed at half of it); a dead worker's job is taken back after it. */
  leaseMs?: number;
  log?: JobLog;
}

/** After the grace period, how long an aborted handler gets to stop at a checkpoint before its job is re-queued. */
const ABORT_DRAIN_MS = 10_000;

interface Running {
  controller: AbortController;
  reason?: 'cancel' | 'timeout' | 'shutdown' | 'lost';
  /** Settles when the signal aborts, so a handler that ignores it cannot hold its job. */
  abandoned: Promise<never>;
}

/** Thrown into BullMQ when a job left the active list by our hand (back to the queue or to a later attempt). */
type BullErrors = Pick<typeof import('bullmq'), 'DelayedError' | 'WaitingError' | 'UnrecoverableError'>;

/**
 * The queue on Redis with BullMQ, for deployments that already run Redis: one BullMQ queue and worker per job
 * type (its concurrency), BullMQ's locks and stalled-job checks for crashed workers. Attempts, backoff with
 * jitter, the dead letter, cancellation, dependencies and schedules are ours, so that both queues behave alike
 * (test/jobs/contract.test.ts).
 */
export class BullMqJobQueue implements JobQueue {
  readonly backend = 'bullmq' as const;
  readonly #store: BullStore;
  readonly #schedules: RedisSchedules;
  readonly #registry: JobRegistry;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #newId: IdGenerator;
  readonly #pollMs: number;
  readonly #leaseMs: number;
  readonly #running = new Map<string, Running>();
  #workers: Worker<JobData, unknown, string>[] = [];
  #working = false;
  /** Aborted when `stop` begins (the handlers' `stopping`); a new one on each `start`. */
  #stopping = new AbortController();
  /** How long an aborted handler may take to stop at a checkpoint (never longer than `stop`'s grace). */
  #abortDrainMs = ABORT_DRAIN_MS;
  #tickTimer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #lastRepair = 0;

  constructor(options: BullMqQueueOptions) {
    this.#store = new BullStore(options.url, options.prefix ?? 'aihub');
    this.#schedules = new RedisSchedules(() => this.#store.redis(), this.#store.prefix);
    this.#registry = new JobRegistry(options.log);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#newId = options.newId;
    this.#pollMs = options.pollMs ?? 1_000;
    this.#leaseMs = options.leaseMs ?? 30_000;
  }

  define: JobQueue['define'] = (definition) => this.#registry.define(definition);
  definitionOf: JobQueue['definitionOf'] = (type) => (this.#registry.has(type) ? this.#registry.type(type) : undefined);

  schedule(definition: ScheduleDefinition): void {
    const problem = cronProblem(definition.cron, this.#clock.now());
    if (problem) throw new Error(`schedule ${definition.name}: ${problem}`);
    this.#registry.schedule(definition);
  }

  async enqueue(type: string, payload: unknown, options: EnqueueOptions = {}): Promise<JobRecord> {
    return this.#enqueue(type, payload, options, null);
  }

  async #enqueue(
    type: string,
    payload: unknown,
    options: EnqueueOptions,
    scheduleName: string | null,
  ): Promise<JobRecord> {
    const definition = this.#registry.type(type);
    return this.#store.add({
      id: this.#newId('job'),
      type,
      payload,
      options,
      maxAttempts: Math.max(1, options.attempts ?? definition.attempts ?? 3),
      timeoutMs: options.timeoutMs ?? definition.timeoutMs ?? null,
      scheduleName,
      now: this.#clock.now(),
    });
  }

  get(id: string): Promise<JobRecord | undefined> {
    return this.#store.get(id);
  }

  list(query: JobQuery): Promise<{ data: JobRecord[]; total: number }> {
    return this.#store.list(query);
  }

  async cancel(id: string): Promise<JobRecord | undefined> {
    const job = await this.#store.get(id);
    if (!job) return undefined;
    if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled') return job;
    await this.#store.markCancelled(id, 'cancelled', this.#clock.now());
    // Running here: abort now; running elsewhere: that worker sees the mark at its next tick.
    const local = this.#running.get(id);
    if (local) this.#abort(local, 'cancel');
    return this.#store.get(id);
  }

  retry(id: string): Promise<JobRecord | undefined> {
    return this.#store.retry(id);
  }

  remove(id: string): Promise<'removed' | 'running' | 'missing'> {
    return this.#store.remove(id);
  }

  schedules(): Promise<ScheduleRecord[]> {
    return this.#schedules.list();
  }

  setScheduleEnabled(name: string, enabled: boolean): Promise<ScheduleRecord | undefined> {
    return this.#schedules.setEnabled(name, enabled, this.#clock.now());
  }

  async start(options: { workers?: boolean } = {}): Promise<void> {
    const now = this.#clock.now();
    for (const definition of this.#registry.schedules()) await this.#schedules.upsert(definition, now);
    if (options.workers === false || this.#working) return;
    this.#working = true;
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    const { lib, workerRedis } = await this.#store.open();
    for (const definition of this.#registry.types()) {
      const worker = new lib.Worker<JobData, unknown, string>(
        definition.type,
        (job, token) => this.#process(lib, definition, job, token),
        {
          connection: workerRedis,
          prefix: this.#store.bullPrefix,
          concurrency: definition.concurrency ?? 1,
          lockDuration: this.#leaseMs,
          stalledInterval: Math.max(100, Math.floor(this.#leaseMs / 2)),
          // A crashed worker's attempt counts as ours (see #process); BullMQ must not dead-letter on its own.
          maxStalledCount: 1_000_000,
        },
      );
      const settle = (job: BullJob | undefined) => {
        if (job?.id)
          this.#store
            .settleDependents(job.id, this.#clock.now())
            .catch((error: unknown) => this.#registry.log?.error({ err: error, job: job.id }, 'job queue: dependents'));
      };
      worker.on('completed', settle);
      worker.on('failed', settle);
      worker.on('error', (error) => this.#registry.log?.error({ err: error }, 'job queue: BullMQ worker error'));
      this.#workers.push(worker);
    }
    this.#tick();
  }

  async stop(graceMs = 30_000): Promise<void> {
    if (this.#working) {
      this.#working = false;
      this.#abortDrainMs = Math.min(graceMs, ABORT_DRAIN_MS);
      this.#stopping.abort(new Error('shutdown'));
      clearTimeout(this.#tickTimer);
      await this.#ticking;
      // Closing a worker stops it taking jobs and waits for those it runs.
      const closing = Promise.all(this.#workers.map((w) => w.close()));
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        closing.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      // Past the grace period: abort what still runs; each goes back to the queue (see #process).
      if (!finished) for (const running of this.#running.values()) this.#abort(running, 'shutdown');
      await closing;
      this.#workers = [];
    }
    await this.#store.close();
  }

  /**
   * What a kill -9 leaves behind, for tests: workers stop without releasing their jobs or renewing their locks,
   * so another worker's stalled-job check takes them back once the locks have expired.
   */
  async abandon(): Promise<void> {
    this.#working = false;
    clearTimeout(this.#tickTimer);
    await this.#ticking;
    for (const running of this.#running.values()) running.reason = 'lost';
    await Promise.all(this.#workers.map((w) => w.close(true)));
    this.#workers = [];
    this.#running.clear();
  }

  async #process(
    errors: BullErrors,
    definition: JobTypeDefinition,
    job: BullJob,
    token: string | undefined,
  ): Promise<unknown> {
    const id = job.id as string;
    const redis = await this.#store.redis();
    const key = this.#store.side(id);
    // One step: read our marks, count the attempt, and show it running (the handler is called right after).
    const [[, raw], [, counted]] = (await redis
      .multi()
      .hgetall(key)
      .hincrby(key, 'attempts', 1)
      .hset(key, 'running', '1')
      .exec()) as [[null, Record<string, string>], [null, number]];
    const side = raw;
    const attempt = counted;
    if (side.cancelledAt || side.cancelRequested || side.waiting === '1') {
      await redis.multi().hincrby(key, 'attempts', -1).hdel(key, 'running').exec();
      if (side.waiting === '1' && !side.cancelledAt && !side.cancelRequested) {
        // Released too early (a repair raced a parent): park it again.
        await job.moveToDelayed(Date.now() + 365 * 24 * 3_600_000, token);
        throw new errors.DelayedError();
      }
      await this.#cancelled(key, side.cancelledAt ? undefined : 'cancelled');
      throw new errors.UnrecoverableError('cancelled');
    }
    if (attempt > job.data.maxAttempts) {
      // Its last attempt died with its worker.
      await redis.hset(key, 'error', 'the worker running its last attempt stopped');
      throw new errors.UnrecoverableError('the worker running its last attempt stopped');
    }
    const controller = new AbortController();
    const running: Running = {
      controller,
      abandoned: new Promise<never>((_, reject) =>
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
      ),
    };
    running.abandoned.catch(() => undefined);
    this.#running.set(id, running);
    let timer: NodeJS.Timeout | undefined;
    let work: Promise<unknown> = Promise.resolve();
    try {
      work = Promise.resolve().then(() =>
        definition.handler({
          id,
          type: definition.type,
          payload: job.data.payload,
          attempt,
          signal: controller.signal,
          stopping: this.#stopping.signal,
          progress: async (percent, message) => {
            await job.updateProgress({
              percent: Math.max(0, Math.min(100, Math.round(percent))),
              message: message ?? null,
            });
          },
        }),
      );
      work.catch(() => undefined);
      const timeoutMs = job.data.timeoutMs;
      if (timeoutMs)
        timer = setTimeout(
          () => this.#abort(running, 'timeout', new Error(`timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      const result = await Promise.race([work, running.abandoned]);
      if (running.reason === 'lost') return await new Promise<never>(() => undefined);
      return result ?? null;
    } catch (error) {
      const reason = running.reason;
      if (reason === 'lost') return await new Promise<never>(() => undefined);
      if (reason === 'shutdown' || (!reason && error instanceof JobInterrupted)) {
        // Back to the queue for another worker; this attempt does not count. An aborted handler first gets a
        // moment to stop at a checkpoint (its writes must land before the stores close).
        if (reason === 'shutdown') {
          let drain: NodeJS.Timeout | undefined;
          await Promise.race([
            work.catch(() => undefined),
            new Promise((r) => (drain = setTimeout(r, this.#abortDrainMs))),
          ]);
          clearTimeout(drain);
        }
        await redis.multi().hincrby(key, 'attempts', -1).hdel(key, 'running').exec();
        await job.moveToWait(token);
        throw new errors.WaitingError();
      }
      if (reason === 'cancel') {
        await this.#cancelled(key, 'cancelled');
        throw new errors.UnrecoverableError('cancelled');
      }
      const message = error instanceof Error ? error.message : String(error);
      await redis.hset(key, 'error', message);
      if (attempt >= job.data.maxAttempts) throw new errors.UnrecoverableError(message);
      const delay = backoffDelay(definition.backoff ?? DEFAULT_BACKOFF, attempt, this.#random);
      await redis
        .multi()
        .hset(key, 'runAt', String(this.#clock.now() + delay))
        .hdel(key, 'running')
        .exec();
      await job.moveToDelayed(Date.now() + delay, token);
      throw new errors.DelayedError();
    } finally {
      clearTimeout(timer);
      if (this.#running.get(id) === running) this.#running.delete(id);
    }
  }

  /** Mark a job cancelled as its worker gives it up (`error` unless one was already given). */
  async #cancelled(key: string, error: string | undefined): Promise<void> {
    const redis = await this.#store.redis();
    await redis.hset(key, { cancelledAt: String(this.#clock.now()), ...(error ? { error } : {}) });
  }

  #abort(running: Running, reason: NonNullable<Running['reason']>, why?: Error): void {
    if (running.reason) return;
    running.reason = reason;
    running.controller.abort(why ?? new Error(reason === 'cancel' ? 'cancelled' : reason));
  }

  /** Fire due schedules, abort local jobs cancelled elsewhere, and now and then release stuck waiting jobs. */
  #tick(): void {
    if (!this.#working) return;
    this.#tickTimer = setTimeout(() => {
      this.#ticking = this.#tickOnce()
        .catch((error: unknown) => this.#registry.log?.error({ err: error }, 'job queue: tick failed'))
        .finally(() => {
          this.#ticking = undefined;
          this.#tick();
        });
    }, this.#pollMs);
  }

  async #tickOnce(): Promise<void> {
    const now = this.#clock.now();
    const names = this.#registry.schedules().map((s) => s.name);
    for (const due of await this.#schedules.due(names, now)) {
      const definition = this.#registry.type(due.type);
      // The unique key makes this tick run once, whichever instance gets here first.
      await this.#enqueue(
        due.type,
        due.payload,
        { uniqueKey: `schedule:${due.name}:${due.tick}`, attempts: definition.attempts },
        due.name,
      );
      await this.#schedules.advance(due, now);
    }
    const redis = await this.#store.redis();
    const ids = [...this.#running.keys()];
    const marks = await Promise.all(
      ids.map((id) => redis.hmget(this.#store.side(id), 'cancelRequested', 'cancelledAt')),
    );
    ids.forEach((id, i) => {
      const running = this.#running.get(id);
      if (marks[i]?.some((m) => m) && running) this.#abort(running, 'cancel');
    });
    if (now - this.#lastRepair >= Math.max(this.#leaseMs, this.#pollMs * 10)) {
      this.#lastRepair = now;
      await this.#store.repairWaiting(now);
    }
  }
}
