import type { Clock } from '../../src/core/clock.js';
import { newId } from '../../src/core/ids.js';
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

export const HARNESSES: HarnessFactory[] = [embedded('sqlite'), embedded('postgres')];
