import type { JobState } from '../types.js';

/**
 * Pure translations between our job model and BullMQ's. BullMQ runs a lower `priority` number first (1 is the
 * most urgent, 0 means "no priority" and would jump every prioritized job), so every job gets a priority around
 * the middle of BullMQ's range: ours higher → BullMQ's lower.
 */
const PRIORITY_ZERO = 1_048_576;
const BULL_PRIORITY_MAX = 2_097_152;

/** Our priority (higher runs first, default 0) as a BullMQ priority (lower runs first, 1 … 2^21). */
export function toBullPriority(priority: number): number {
  return Math.min(BULL_PRIORITY_MAX, Math.max(1, PRIORITY_ZERO - Math.round(priority)));
}

/** What we keep beside BullMQ's own job hash, per job (see docs/jobs.md "Redis keys"). */
export interface JobSideFields {
  /** Set when cancel was asked (epoch ms). */
  cancelledAt?: string | undefined;
  /** "1" while the job waits for its parents. */
  waiting?: string | undefined;
  /** "1" once a worker has called the handler of the current attempt (set in the same step as the attempt). */
  running?: string | undefined;
}

/**
 * Our state from BullMQ's. A job cancelled before it ran is cancelled at once, whatever BullMQ still holds it as
 * (a worker takes it off the queue without running it); a running job asked to cancel stays running until its
 * handler stops. A job waiting for its parents sits far in BullMQ's delayed set, marked `waiting`. An active job
 * counts as running once its handler is called (BullMQ marks it active a step earlier).
 */
export function toJobState(bullState: string, side: JobSideFields): JobState | undefined {
  const cancelled = Boolean(side.cancelledAt);
  switch (bullState) {
    case 'active':
      return cancelled ? 'cancelled' : side.running === '1' ? 'running' : 'queued';
    case 'completed':
      return 'succeeded';
    case 'failed':
      return cancelled ? 'cancelled' : 'failed';
    case 'delayed':
      return cancelled ? 'cancelled' : side.waiting ? 'waiting' : 'queued';
    case 'waiting-children':
      return cancelled ? 'cancelled' : 'waiting';
    case 'wait':
    case 'waiting':
    case 'prioritized':
    case 'paused':
      return cancelled ? 'cancelled' : 'queued';
    default:
      return undefined;
  }
}

/** BullMQ's sets that hold jobs, in the order a listing reads them. */
export const BULL_STATES = [
  'active',
  'wait',
  'prioritized',
  'delayed',
  'waiting-children',
  'completed',
  'failed',
] as const;

/** A job's progress as we store it with `updateProgress` (an object: percent and message). */
export function readProgress(raw: unknown): { percent: number; message: string | null } {
  if (typeof raw === 'number') return { percent: raw, message: null };
  if (raw && typeof raw === 'object' && 'percent' in raw) {
    const { percent, message } = raw as { percent: unknown; message?: unknown };
    return {
      percent: typeof percent === 'number' ? percent : 0,
      message: typeof message === 'string' ? message : null,
    };
  }
  return { percent: 0, message: null };
}
