import type { Config } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { IdGenerator } from '../core/ids.js';
import type { DatabaseHandle } from '../infra/db/client.js';
import { BullMqJobQueue } from './bullmq/queue.js';
import { EmbeddedJobQueue } from './embedded/queue.js';
import type { JobLog } from './registry.js';
import type { JobQueue } from './types.js';

export type { JobQueue } from './types.js';

export interface JobQueueOptions {
  config: Config;
  database: DatabaseHandle;
  clock: Clock;
  newId: IdGenerator;
  log: JobLog;
  /** Prefix of Redis keys (for a Redis-backed queue; tests use their own). */
  redisPrefix?: string;
  /** The embedded queue's lease, BullMQ's lock on a running job (default: AIHUB_JOBS_LEASE_MS). */
  leaseMs?: number;
}

/**
 * The configured queue: BullMQ on Redis (AIHUB_JOBS=bullmq, the default with REDIS_URL) or the embedded one in
 * the database. Both pass test/jobs/contract.test.ts.
 */
export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { config } = options;
  if (config.jobs.backend === 'bullmq' && config.redisUrl)
    return new BullMqJobQueue({
      url: config.redisUrl,
      prefix: options.redisPrefix ?? 'aihub',
      clock: options.clock,
      newId: options.newId,
      pollMs: config.jobs.pollMs,
      leaseMs: options.leaseMs ?? config.jobs.leaseMs,
      log: options.log,
    });
  return new EmbeddedJobQueue({
    database: options.database,
    clock: options.clock,
    newId: options.newId,
    pollMs: config.jobs.pollMs,
    leaseMs: options.leaseMs ?? config.jobs.leaseMs,
    log: options.log,
  });
}
