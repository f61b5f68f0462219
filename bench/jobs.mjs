#!/usr/bin/env node
// Throughput of the job queue: N jobs enqueued, then run to completion by the workers of one process (a no-op
// handler), enqueue + complete per second. The embedded queue on SQLite, or BullMQ on Redis (--backend bullmq,
// REDIS_URL or redis://127.0.0.1:6379; its keys live under a private prefix, deleted at the end).
// Runs the compiled code in dist/ (or DIR's dist/).
//   npm run build && node bench/jobs.mjs [jobs=5000] [--concurrency 32] [--backend embedded|bullmq] [--dir DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 5_000);
const concurrency = Number(option('concurrency', 32));
const backend = option('backend', 'embedded');
const dir = resolve(option('dir', fileURLToPath(new URL('..', import.meta.url))));
const load = (path) => import(pathToFileURL(join(dir, 'dist', path)).href);
const { openDatabase } = await load('infra/db/client.js');
const { migrateToLatest } = await load('infra/db/migrate.js');
const { EmbeddedJobQueue } = await load('jobs/embedded/queue.js');
const { BullMqJobQueue } = await load('jobs/bullmq/queue.js');
const { newId } = await load('core/ids.js');

const dataDir = mkdtempSync(join(tmpdir(), 'aihub-bench-jobs-'));
const database = openDatabase({ url: undefined, dataDir });
await migrateToLatest(database.db);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `aihub-bench:${process.pid}`;
const ids = (p) => newId(p, Date.now());
const queue =
  backend === 'bullmq'
    ? new BullMqJobQueue({ url: redisUrl, prefix, newId: ids, pollMs: 50 })
    : new EmbeddedJobQueue({ database, newId: ids, pollMs: 50 });
let done = 0;
let finish;
const allDone = new Promise((r) => (finish = r));
queue.define({
  type: 'bench.noop',
  concurrency,
  handler: async ({ payload }) => {
    if (++done === count) setImmediate(finish);
    return payload;
  },
});

// 1. Enqueue alone, 2. run alone, 3. both at once (workers running while jobs arrive).
let t0 = performance.now();
for (let i = 0; i < count; i++) await queue.enqueue('bench.noop', { i });
const enqueueMs = performance.now() - t0;
t0 = performance.now();
await queue.start();
await allDone;
// The last completions are written after their handlers return.
await new Promise((r) => setTimeout(r, 100));
const runMs = performance.now() - t0 - 100;

done = 0;
const secondDone = new Promise((r) => (finish = r));
t0 = performance.now();
for (let i = 0; i < count; i++) await queue.enqueue('bench.noop', { i });
await secondDone;
const bothMs = performance.now() - t0;
const succeeded =
  backend === 'bullmq'
    ? (await queue.list({ scope: null, state: 'succeeded', limit: 1, offset: 0 })).total
    : Number(
        (
          await database.db
            .selectFrom('jobs')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('state', '=', 'succeeded')
            .executeTakeFirst()
        ).n,
      );
await queue.stop(5_000);
await database.close();
if (backend === 'bullmq') {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
rmSync(dataDir, { recursive: true, force: true });

const rate = (ms) => Math.round((count / ms) * 1000);
console.log(
  JSON.stringify(
    {
      backend,
      jobs: count,
      concurrency,
      enqueuePerSecond: rate(enqueueMs),
      completePerSecond: rate(runMs),
      enqueueAndCompletePerSecond: rate(bothMs),
      succeeded,
    },
    null,
    2,
  ),
);
