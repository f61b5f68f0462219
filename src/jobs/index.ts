import type { Config } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import type { IdGenerator } from '../core/ids.js';
import type { DatabaseHandle } from '../infra/db/client.js';
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
  /** Test timings of the embedded queue. */
  leaseMs?: number;
}

/**
 * The configured queue. Today the embedded one (the configuration refuses AIHUB_JOBS=bullmq); a BullMQ
 * implementation of JobQueue plugs in here and must pass test/jobs/contract.test.ts.
 */
export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { config } = options;
  return new EmbeddedJobQueue({
    database: options.database,
    clock: options.clock,
    newId: options.newId,
    pollMs: config.jobs.pollMs,
    leaseMs: options.leaseMs,
    log: options.log,
  });
}
