import { Redis } from 'ioredis';
import type { Clock } from '../../src/core/clock.js';
import { newId } from '../../src/core/ids.js';
import { BullMqJobQueue } from '../../src/jobs/bullmq/queue.js';
import { EmbeddedJobQueue } from '../../src/jobs/embedded/queue.js';
import type { JobQueue } from '../../src/jobs/types.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

/** Fast timings for tests: polls every 20 ms, leases of 300 ms. */
export const FAST = { pollMs: 20, leaseMs: 300 };

/** A clock that runs with real time but can jump ahead (cron ticks without waiting a minute). */
export class JumpClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
}

/** One backend under the contract suite: queues made by `create` share one store (like instances of a cluster). */
export interface QueueHarness {
  create(clock: Clock): JobQueue;
  /** What a kill -9 leaves: the worker stops renewing leases and polling, its running jobs stay claimed. */
  crash(queue: JobQueue): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessFactory {
  name: string;
  /** Why it cannot run here (a missing TEST_* variable), or undefined. */
  skip: string | undefined;
  open(): Promise<QueueHarness>;
}

function embedded(engine: 'sqlite' | 'postgres'): HarnessFactory {
  return {
    name: `embedded-${engine}`,
    skip: engine === 'postgres' && !process.env.TEST_DATABASE_URL ? 'set TEST_DATABASE_URL to run it' : undefined,
    open: async () => {
      const database: TestDatabase = await createTestDatabase(engine);
      const queues: EmbeddedJobQueue[] = [];
      return {
        create: (clock) => {
          const queue = new EmbeddedJobQueue({
            database: database.handle,
            clock,
            newId: (prefix) => newId(prefix, clock.now()),
            ...FAST,
          });
          queues.push(queue);
          return queue;
        },
        crash: async (queue) => (queue as EmbeddedJobQueue).abandon(),
        close: async () => {
          await Promise.all(queues.map((q) => q.stop(0)));
          await database.drop();
        },
      };
    },
  };
}

/** A private key prefix for one test file's Redis keys (deleted by `deleteRedisKeys`). */
export function redisTestPrefix(): string {
  return `aihub-test:jobs:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
}

/** Delete every key under `prefix` (a test's own). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** BullMQ's lock on a running job in tests (renewed every half); a crashed worker's job returns after it. */
export const BULLMQ_LEASE_MS = 1_000;

function bullmq(): HarnessFactory {
  const url = process.env.TEST_REDIS_URL;
  return {
    name: 'bullmq-redis',
    skip: url ? undefined : 'set TEST_REDIS_URL to run it',
    open: async () => {
      const prefix = redisTestPrefix();
      const queues: BullMqJobQueue[] = [];
      return {
        create: (clock) => {
          const queue = new BullMqJobQueue({
            url: url as string,
            prefix,
            clock,
            newId: (idPrefix) => newId(idPrefix, clock.now()),
            pollMs: FAST.pollMs,
            leaseMs: BULLMQ_LEASE_MS,
          });
          queues.push(queue);
          return queue;
        },
        crash: async (queue) => (queue as BullMqJobQueue).abandon(),
        close: async () => {
          await Promise.all(queues.map((q) => q.stop(0)));
          await deleteRedisKeys(url as string, prefix);
        },
      };
    },
  };
}

export const HARNESSES: HarnessFactory[] = [embedded('sqlite'), embedded('postgres'), bullmq()];
