/**
 * The job system's contract: one `JobQueue` interface, two implementations (embedded in the application
 * database, BullMQ on Redis) that pass the same suite (src/jobs/contract.test.ts). Modules register the job
 * types they own (`define`) and their recurring schedules (`schedule`); anyone enqueues.
 */

export const JOB_STATES = ['queued', 'waiting', 'running', 'succeeded', 'failed', 'cancelled'] as const;
/**
 * queued: ready (or delayed until `runAt`); waiting: for its parents to succeed; running; succeeded;
 * failed: dead letter, after its last attempt (retry by hand); cancelled.
 */
export type JobState = (typeof JOB_STATES)[number];

export const FINISHED_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** What a handler gets: its job, a signal that aborts on cancel, timeout or shutdown, and a progress reporter. */
export interface JobContext<P = unknown> {
  id: string;
  type: string;
  payload: P;
  /** 1 for the first attempt. */
  attempt: number;
  /**
   * Aborted when the job is cancelled, times out, or the worker shuts down: stop soon, and throw. On a
   * cancel its `reason` is an Error with the message `cancelled` (both queues).
   */
  signal: AbortSignal;
  /**
   * Aborted as soon as this worker begins a graceful shutdown (before `signal`, which aborts when the grace
   * period is over). A long handler that keeps checkpoints may stop taking new work here, finish what it has in
   * flight, and throw `JobInterrupted`: the job goes back to the queue and the attempt does not count.
   */
  stopping: AbortSignal;
  /** Report progress (0–100) and a short message, readable by others while the job runs. */
  progress(percent: number, message?: string): Promise<void>;
}

/** Thrown by a handler that stopped at a checkpoint for a shutdown: re-queued, the attempt not counted. */
export class JobInterrupted extends Error {
  constructor(message = 'interrupted by a shutdown; it resumes from its checkpoint') {
    super(message);
    this.name = 'JobInterrupted';
  }
}

export type JobHandler<P = unknown, R = unknown> = (context: JobContext<P>) => Promise<R>;

export interface BackoffPolicy {
  /** Delay before the second attempt; doubles each attempt after. */
  baseMs: number;
  /** Upper bound of one delay. */
  maxMs: number;
}

/** A job type, registered by the module that owns it. */
export interface JobTypeDefinition<P = unknown, R = unknown> {
  type: string;
  handler: JobHandler<P, R>;
  /** Jobs of this type one worker process runs at once (default 1). */
  concurrency?: number;
  /** Attempts in all before the job is dead-lettered (default 3). */
  attempts?: number;
  backoff?: BackoffPolicy;
  /** An attempt running longer fails (its signal aborts); default none. */
  timeoutMs?: number;
  /**
   * Called after a job of this type is cancelled through the jobs API, so the module that owns what the job
   * runs can end it too (a running job also sees its signal abort with the reason `cancelled`).
   */
  onCancel?: (cancelled: { job: JobRecord; wasRunning: boolean }) => Promise<void>;
}

export interface EnqueueOptions {
  /** Higher runs first (default 0). */
  priority?: number;
  /** Do not start before this many ms from now. */
  delayMs?: number;
  /** Overrides the type's attempts. */
  attempts?: number;
  /** Overrides the type's timeout. */
  timeoutMs?: number;
  /** Start only after these jobs have succeeded (a failed or cancelled parent cancels this job). */
  parents?: string[];
  /** Owner: the organization (tenant scope) and the user who started it. */
  orgId?: string | null;
  userId?: string | null;
  /** At most one job with this key ever (a second enqueue returns the first job). */
  uniqueKey?: string;
}

/** A job as the API shows it. */
export interface JobRecord {
  id: string;
  type: string;
  state: JobState;
  orgId: string | null;
  userId: string | null;
  payload: unknown;
  result: unknown;
  error: string | null;
  priority: number;
  attempts: number;
  maxAttempts: number;
  progress: number;
  progressMessage: string | null;
  parents: string[];
  scheduleName: string | null;
  runAt: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface JobQuery {
  /** Tenant scope: one organization's jobs (with `instanceWide`, also those of none); null = every job. */
  scope: { orgId: string; instanceWide: boolean } | null;
  /** Only this user's jobs. */
  userId?: string | undefined;
  type?: string | undefined;
  state?: JobState | undefined;
  limit: number;
  offset: number;
}

/** A recurring schedule, declared in code; admins may disable it. */
export interface ScheduleDefinition {
  /** Stable name, e.g. `usage.purge-logs.hourly`. */
  name: string;
  type: string;
  /** Five-field cron expression (UTC), e.g. `0 * * * *`. */
  cron: string;
  payload?: unknown;
}

export interface ScheduleRecord {
  name: string;
  type: string;
  cron: string;
  enabled: boolean;
  nextRunAt: number;
  lastRunAt: number | null;
}

export type JobBackend = 'embedded' | 'bullmq';

/** The durable queue. Every method but `start`/`stop` works whether this process runs workers or not. */
export interface JobQueue {
  readonly backend: JobBackend;
  /** Register a job type and its handler (before `start`). */
  define<P, R>(definition: JobTypeDefinition<P, R>): void;
  /** The definition registered for a type, if any. */
  definitionOf(type: string): JobTypeDefinition | undefined;
  /** Register a recurring schedule (stored on `start`; enabled unless an admin disabled it). */
  schedule(definition: ScheduleDefinition): void;
  enqueue(type: string, payload: unknown, options?: EnqueueOptions): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | undefined>;
  list(query: JobQuery): Promise<{ data: JobRecord[]; total: number }>;
  /** Queued or waiting: cancelled at once. Running: its signal aborts; it ends cancelled. Finished: unchanged. */
  cancel(id: string): Promise<JobRecord | undefined>;
  /** A failed or cancelled job runs again from its first attempt. */
  retry(id: string): Promise<JobRecord | undefined>;
  /** Delete a job that is not running. */
  remove(id: string): Promise<'removed' | 'running' | 'missing'>;
  schedules(): Promise<ScheduleRecord[]>;
  setScheduleEnabled(name: string, enabled: boolean): Promise<ScheduleRecord | undefined>;
  /** Store the schedules and, with `workers`, start polling and running jobs. */
  start(options?: { workers?: boolean }): Promise<void>;
  /**
   * Stop taking jobs; wait up to `graceMs` for running ones to finish, then abort them and put them back in the
   * queue (their attempt is not counted). Loses none.
   */
  stop(graceMs?: number): Promise<void>;
}
