/**
 * A worker process for test/jobs/kill.test.ts: a queue whose `test.hang` jobs never finish — embedded over the
 * test database, or BullMQ when AIHUB_TEST_REDIS_URL (and AIHUB_TEST_REDIS_PREFIX) are set. It prints
 * `running <id>` when it has one, and waits to be killed (-9).
 */
import { newId } from '../../src/core/ids.js';
import { openDatabase } from '../../src/infra/db/client.js';
import { BullMqJobQueue } from '../../src/jobs/bullmq/queue.js';
import { EmbeddedJobQueue } from '../../src/jobs/embedded/queue.js';
import type { JobQueue } from '../../src/jobs/types.js';

const leaseMs = Number(process.env.AIHUB_TEST_LEASE_MS ?? 500);
const ids = (prefix: string) => newId(prefix, Date.now());
const redisUrl = process.env.AIHUB_TEST_REDIS_URL;
const queue: JobQueue = redisUrl
  ? new BullMqJobQueue({ url: redisUrl, prefix: process.env.AIHUB_TEST_REDIS_PREFIX, newId: ids, pollMs: 20, leaseMs })
  : new EmbeddedJobQueue({
      database: openDatabase({
        url: process.env.AIHUB_TEST_DB_URL || undefined,
        dataDir: process.env.AIHUB_TEST_DATA_DIR as string,
        poolSize: 2,
      }),
      newId: ids,
      pollMs: 20,
      leaseMs,
    });
queue.define({
  type: 'test.hang',
  handler: async ({ id }) => {
    process.stdout.write(`running ${id}\n`);
    await new Promise(() => undefined);
  },
});
await queue.start();
