import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EnqueueOptions, JobQuery, JobRecord, JobState } from '../types.js';
import { BULL_STATES, readProgress, toBullPriority, toJobState } from './mapping.js';

/** What a BullMQ job carries besides its type (its name and queue): our fields, so any instance can list it. */
export interface JobData {
  payload: unknown;
  orgId: string | null;
  userId: string | null;
  parents: string[];
  scheduleName: string | null;
  priority: number;
  maxAttempts: number;
  timeoutMs: number | null;
  createdAt: number;
}

export type BullJob = Job<JobData, unknown, string>;
export type BullQueue = Queue<JobData, unknown, string>;
type BullMq = typeof import('bullmq');

/** A waiting job sits this far in BullMQ's delayed set until its parents have succeeded. */
const PARKED_MS = 365 * 24 * 3_600_000;

interface Connection {
  /** Our commands and the queues': fail after two retries (an API call errors rather than hangs without Redis). */
  redis: Redis;
  /** The workers' (BullMQ duplicates it to block on): retries forever, as BullMQ requires of workers. */
  workerRedis: Redis;
  lib: BullMq;
  queues: Map<string, BullQueue>;
}

export interface NewJob {
  id: string;
  type: string;
  payload: unknown;
  options: EnqueueOptions;
  maxAttempts: number;
  timeoutMs: number | null;
  scheduleName: string | null;
  now: number;
}

/**
 * Jobs in Redis: BullMQ's queues (one per job type, keys `<prefix>:bull:<type>:…`) hold the jobs and their
 * state; beside each, a small hash of ours (`<prefix>:jobs:job:<id>`) holds what BullMQ has no field for:
 * owner, attempts as we count them, last error, cancel and "waiting for parents" marks.
 */
export class BullStore {
  #connection: Promise<Connection> | undefined;

  constructor(
    private readonly url: string,
    readonly prefix: string,
  ) {}

  /** The connection (opened on first use; `close` releases it and a later call opens it again). */
  open(): Promise<Connection> {
    this.#connection ??= (async () => {
      const [lib, { Redis }] = await Promise.all([import('bullmq'), import('ioredis')]);
      const redis = new Redis(this.url, { maxRetriesPerRequest: 2, keyPrefix: '' });
      const workerRedis = new Redis(this.url, { maxRetriesPerRequest: null, keyPrefix: '', lazyConnect: true });
      return { redis, workerRedis, lib, queues: new Map() };
    })();
    return this.#connection;
  }

  async redis(): Promise<Redis> {
    return (await this.open()).redis;
  }

  async close(): Promise<void> {
    const pending = this.#connection;
    this.#connection = undefined;
    if (!pending) return;
    const { redis, workerRedis, queues } = await pending;
    await Promise.all([...queues.values()].map((q) => q.close()));
    await redis.quit().catch(() => redis.disconnect());
    if (workerRedis.status === 'wait') workerRedis.disconnect();
    else await workerRedis.quit().catch(() => workerRedis.disconnect());
  }

  async queue(type: string): Promise<BullQueue> {
    const connection = await this.open();
    let queue = connection.queues.get(type);
    if (!queue) {
      queue = new connection.lib.Queue<JobData, unknown, string>(type, {
        connection: connection.redis,
        prefix: this.bullPrefix,
      });
      connection.queues.set(type, queue);
    }
    return queue;
  }

  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }

  side(id: string): string {
    return `${this.prefix}:jobs:job:${id}`;
  }

  /** Add a job; with a unique key already taken, the job that holds it. */
  async add(job: NewJob): Promise<JobRecord> {
    const redis = await this.redis();
    const { options } = job;
    if (options.uniqueKey) {
      const key = `${this.prefix}:jobs:unique:${options.uniqueKey}`;
      const taken = await redis.set(key, job.id, 'NX');
      if (taken === null) {
        const holder = await redis.get(key);
        const existing = holder ? await this.get(holder) : undefined;
        if (existing) return existing;
        await redis.set(key, job.id);
      }
    }
    const parents = [...new Set(options.parents ?? [])];
    const delayMs = Math.max(0, options.delayMs ?? 0);
    const multi = redis
      .multi()
      .sadd(`${this.prefix}:jobs:types`, job.type)
      .hset(this.side(job.id), {
        type: job.type,
        orgId: options.orgId ?? '',
        userId: options.userId ?? '',
        attempts: '0',
        runAt: String(job.now + delayMs),
        ...(parents.length > 0 ? { waiting: '1' } : {}),
      });
    for (const parent of parents) multi.sadd(`${this.prefix}:jobs:dependents:${parent}`, job.id);
    if (parents.length > 0) multi.sadd(`${this.prefix}:jobs:waiting`, job.id);
    await multi.exec();
    const data: JobData = {
      payload: job.payload ?? null,
      orgId: options.orgId ?? null,
      userId: options.userId ?? null,
      parents,
      scheduleName: job.scheduleName,
      priority: options.priority ?? 0,
      maxAttempts: job.maxAttempts,
      timeoutMs: job.timeoutMs,
      createdAt: job.now,
    };
    await (await this.queue(job.type)).add(job.type, data, {
      jobId: job.id,
      priority: toBullPriority(data.priority),
      delay: parents.length > 0 ? PARKED_MS : delayMs,
      // Retries, backoff and the dead letter are ours (attempts counted across crashed workers too).
      attempts: 1,
      removeOnComplete: false,
      removeOnFail: false,
    });
    if (parents.length === 0) return newRecord(job.id, job.type, data, job.now + delayMs);
    await this.settleChild(job.id);
    const record = await this.get(job.id);
    if (!record) throw new Error(`job ${job.id} vanished as it was enqueued`);
    return record;
  }

  async bullJob(id: string): Promise<{ job: BullJob; side: Record<string, string> } | undefined> {
    const side = await (await this.redis()).hgetall(this.side(id));
    if (!side.type) return undefined;
    const job = await (await this.queue(side.type)).getJob(id);
    return job ? { job, side } : undefined;
  }

  /**
   * A job as the API shows it. Its state is read first: a worker writes our fields before BullMQ's state
   * changes, so fields read after the state are never older than it.
   */
  async get(id: string): Promise<JobRecord | undefined> {
    const redis = await this.redis();
    const type = await redis.hget(this.side(id), 'type');
    if (!type) return undefined;
    const queue = await this.queue(type);
    const bullState = await queue.getJobState(id);
    const [job, side] = await Promise.all([queue.getJob(id), redis.hgetall(this.side(id))]);
    const state = job && toJobState(bullState, side);
    return job && state ? toRecord(job, state, side) : undefined;
  }

  /**
   * A page of jobs, newest first. BullMQ indexes jobs by state only, so the ids of the matching types are read
   * from its sets and filtered by our owner fields; only the page's jobs are loaded.
   */
  async list(query: JobQuery): Promise<{ data: JobRecord[]; total: number }> {
    const redis = await this.redis();
    const types = query.type ? [query.type] : await redis.smembers(`${this.prefix}:jobs:types`);
    const bullStates = new Map<string, string>();
    for (const type of types) {
      const queue = await this.queue(type);
      for (const state of BULL_STATES)
        for (const id of await queue.getRanges([state], 0, -1)) if (!bullStates.has(id)) bullStates.set(id, state);
    }
    const ids = [...bullStates.keys()];
    const fields = ['orgId', 'userId', 'cancelledAt', 'waiting', 'running'] as const;
    const sides = await Promise.all(ids.map((id) => redis.hmget(this.side(id), ...fields)));
    const matching: string[] = [];
    ids.forEach((id, i) => {
      const [orgId, userId, cancelledAt, waiting, running] = (sides[i] ?? []).map((v) => v ?? undefined);
      const scope = query.scope;
      if (scope && !(orgId === scope.orgId || (scope.instanceWide && !orgId))) return;
      if (query.userId !== undefined && userId !== query.userId) return;
      const state = toJobState(bullStates.get(id) as string, { cancelledAt, waiting, running });
      if (!state || (query.state && state !== query.state)) return;
      matching.push(id);
    });
    matching.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const page = matching.slice(query.offset, query.offset + query.limit);
    const data = (await Promise.all(page.map((id) => this.get(id)))).filter((j): j is JobRecord => j !== undefined);
    return { data, total: matching.length };
  }

  /**
   * Cancel a job. One that has not started is cancelled at once (a worker takes it off BullMQ's queue without
   * running it) and so are the jobs waiting for it; a running one is asked to stop (`cancelRequested`): its
   * worker aborts its signal and it ends cancelled.
   */
  async markCancelled(id: string, error: string, now: number): Promise<void> {
    const redis = await this.redis();
    const record = await this.get(id);
    if (!record || record.state === 'succeeded' || record.state === 'failed' || record.state === 'cancelled') return;
    if (record.state === 'running') {
      await redis.hset(this.side(id), 'cancelRequested', String(now));
      return;
    }
    await redis
      .multi()
      .hset(this.side(id), { cancelledAt: String(now), error })
      .hdel(this.side(id), 'waiting')
      .srem(`${this.prefix}:jobs:waiting`, id)
      .exec();
    const job = await (await this.queue(record.type)).getJob(id);
    if ((await job?.getState()) === 'delayed') await job?.promote().catch(() => undefined);
    await this.settleDependents(id, now);
  }

  /** Release or cancel the jobs waiting for `parentId`, now that it has finished. */
  async settleDependents(parentId: string, now = Date.now()): Promise<void> {
    const children = await (await this.redis()).smembers(`${this.prefix}:jobs:dependents:${parentId}`);
    for (const child of children) await this.settleChild(child, now);
  }

  /** A waiting job whose parents all succeeded is queued; one with a failed or cancelled parent is cancelled. */
  async settleChild(id: string, now = Date.now()): Promise<void> {
    const found = await this.bullJob(id);
    if (!found) return;
    if (found.side.waiting !== '1' || found.side.cancelledAt) return;
    const parents = found.job.data.parents;
    const states = await Promise.all(parents.map(async (p) => (await this.get(p))?.state));
    const bad = parents.find((_, i) => states[i] === 'failed' || states[i] === 'cancelled');
    if (bad) return this.markCancelled(id, `parent job ${bad} did not succeed`, now);
    if (!states.every((s) => s === 'succeeded')) return;
    const redis = await this.redis();
    const released = await redis.hdel(this.side(id), 'waiting');
    await redis.srem(`${this.prefix}:jobs:waiting`, id);
    if (released === 1) await found.job.promote().catch(() => undefined);
  }

  /** Waiting jobs whose parent's worker died before releasing them move on (run by workers now and then). */
  async repairWaiting(now: number): Promise<void> {
    for (const id of await (await this.redis()).smembers(`${this.prefix}:jobs:waiting`))
      await this.settleChild(id, now);
  }

  /** A failed or cancelled job back in the queue, from its first attempt. */
  async retry(id: string): Promise<JobRecord | undefined> {
    const found = await this.bullJob(id);
    if (!found) return undefined;
    const { job, side } = found;
    const bullState = await job.getState();
    const state = toJobState(bullState, side);
    if (state !== 'failed' && state !== 'cancelled') return this.get(id);
    await (await this.redis())
      .multi()
      .hset(this.side(id), { attempts: '0', runAt: String(Date.now()) })
      .hdel(this.side(id), 'error', 'cancelledAt', 'cancelRequested', 'running')
      .exec();
    await job.updateProgress({ percent: 0, message: null });
    if (bullState === 'failed') await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return this.get(id);
  }

  async remove(id: string): Promise<'removed' | 'running' | 'missing'> {
    const found = await this.bullJob(id);
    const redis = await this.redis();
    if (!found) {
      await redis.del(this.side(id));
      return 'missing';
    }
    if ((await found.job.getState()) === 'active') return 'running';
    try {
      await found.job.remove();
    } catch {
      return 'running'; // locked by a worker that took it meanwhile
    }
    await redis.multi().del(this.side(id)).srem(`${this.prefix}:jobs:waiting`, id).exec();
    return 'removed';
  }
}

/** A job just added, before any worker touched it. */
function newRecord(id: string, type: string, data: JobData, runAt: number): JobRecord {
  return {
    id,
    type,
    state: 'queued',
    orgId: data.orgId,
    userId: data.userId,
    payload: data.payload,
    result: null,
    error: null,
    priority: data.priority,
    attempts: 0,
    maxAttempts: data.maxAttempts,
    progress: 0,
    progressMessage: null,
    parents: data.parents,
    scheduleName: data.scheduleName,
    runAt,
    createdAt: data.createdAt,
    startedAt: null,
    finishedAt: null,
  };
}

function toRecord(job: BullJob, state: JobState, side: Record<string, string>): JobRecord {
  const progress = readProgress(job.progress);
  const finished = state === 'succeeded' || state === 'failed' || state === 'cancelled';
  return {
    id: job.id as string,
    type: job.name,
    state,
    orgId: job.data.orgId,
    userId: job.data.userId,
    payload: job.data.payload,
    result: state === 'succeeded' ? (job.returnvalue ?? null) : null,
    error: state === 'succeeded' ? null : (side.error ?? (job.failedReason || null)),
    priority: job.data.priority,
    attempts: Number(side.attempts ?? 0),
    maxAttempts: job.data.maxAttempts,
    progress: state === 'succeeded' ? 100 : progress.percent,
    progressMessage: progress.message,
    parents: job.data.parents,
    scheduleName: job.data.scheduleName,
    runAt: Number(side.runAt ?? job.timestamp),
    createdAt: job.data.createdAt,
    startedAt: job.processedOn ?? null,
    finishedAt: finished ? (job.finishedOn ?? (side.cancelledAt ? Number(side.cancelledAt) : null)) : null,
  };
}
