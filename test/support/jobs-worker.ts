/**
 * A worker process for test/jobs/kill.test.ts: an embedded queue over the test database whose `test.hang` jobs
 * never finish. It prints `running <id>` when it has one, and waits to be killed (-9).
 */
import { newId } from '../../src/core/ids.js';
import { openDatabase } from '../../src/infra/db/client.js';
import { EmbeddedJobQueue } from '../../src/jobs/embedded/queue.js';

const database = openDatabase({
  url: process.env.AIHUB_TEST_DB_URL || undefined,
  dataDir: process.env.AIHUB_TEST_DATA_DIR as string,
  poolSize: 2,
});
const queue = new EmbeddedJobQueue({
  database,
  newId: (prefix) => newId(prefix, Date.now()),
  pollMs: 20,
  leaseMs: Number(process.env.AIHUB_TEST_LEASE_MS ?? 500),
});
queue.define({
  type: 'test.hang',
  handler: async ({ id }) => {
    process.stdout.write(`running ${id}\n`);
    await new Promise(() => undefined);
  },
});
await queue.start();
