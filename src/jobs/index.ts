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
  /** Prefix of the BullMQ keys in Redis (tests use their own). */
  redisPrefix?: string;
  /** Test timings of the embedded queue. */
  leaseMs?: number;
}

/** The configured queue: BullMQ on Redis (AIHUB_JOBS=bullmq, the default with REDIS_URL), else embedded. */
export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { config } = options;
  if (config.jobs.backend === 'bullmq' && config.redisUrl) {
    throw new Error('AIHUB_JOBS=bullmq is not available in this build');
  }
  return new EmbeddedJobQueue({
    database: options.database,
    clock: options.clock,
    newId: options.newId,
    pollMs: config.jobs.pollMs,
    leaseMs: options.leaseMs,
    log: options.log,
  });
}
