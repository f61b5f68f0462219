/**
 * kill -9 of a worker process mid-job: its lease runs out and another worker runs the job again; nothing is
 * lost and the interrupted attempt counts.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { BullMqJobQueue } from '../../src/jobs/bullmq/queue.js';
import { EmbeddedJobQueue } from '../../src/jobs/embedded/queue.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';
import { BULLMQ_LEASE_MS, deleteRedisKeys, redisTestPrefix } from '../support/jobs.js';
import { childEnv, ROOT } from '../support/processes.js';

/** Start test/support/jobs-worker.ts and resolve once it runs `jobId`. */
async function startDoomedWorker(env: Record<string, string>, jobId: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/jobs-worker.ts'], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the worker never ran the job')), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes(`running ${jobId}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const LEASE_MS = 500;

describe.each(ENGINES)('a worker killed mid-job (%s)', (engine) => {
  let database: TestDatabase;
  let survivor: EmbeddedJobQueue;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  }, 30_000);
  afterAll(async () => {
    await survivor?.stop(0);
    await database?.drop();
  });

  it('is taken back after its lease and finished by another worker', async () => {
    survivor = new EmbeddedJobQueue({
      database: database.handle,
      newId: (prefix) => newId(prefix, Date.now()),
      pollMs: 20,
      leaseMs: LEASE_MS,
    });
    survivor.define({ type: 'test.hang', handler: async ({ attempt }) => ({ finishedOnAttempt: attempt }) });
    const job = await survivor.enqueue('test.hang', null);

    const worker = await startDoomedWorker(
      {
        AIHUB_TEST_DB_URL: database.url ?? '',
        AIHUB_TEST_DATA_DIR: database.dataDir,
        AIHUB_TEST_LEASE_MS: String(LEASE_MS),
      },
      job.id,
    );
    expect((await survivor.get(job.id))?.state).toBe('running');
    await worker.kill();

    const lease = await database.handle.db
      .selectFrom('jobs')
      .select('lease_until')
      .where('id', '=', job.id)
      .executeTakeFirstOrThrow();
    await survivor.start();
    const end = Date.now() + 10_000;
    let done = await survivor.get(job.id);
    while (done?.state !== 'succeeded' && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      done = await survivor.get(job.id);
    }
    expect(done).toMatchObject({ state: 'succeeded', attempts: 2, result: { finishedOnAttempt: 2 } });
    // Not before the dead worker's lease ran out.
    expect(done?.startedAt as number).toBeGreaterThan(lease.lease_until as number);
  }, 90_000);
});

const REDIS_URL = process.env.TEST_REDIS_URL;

describe.skipIf(!REDIS_URL)('a BullMQ worker killed mid-job (set TEST_REDIS_URL to run it)', () => {
  const prefix = redisTestPrefix();
  let survivor: BullMqJobQueue;
  afterAll(async () => {
    await survivor?.stop(0);
    if (REDIS_URL) await deleteRedisKeys(REDIS_URL, prefix);
  });

  it('is taken back once its lock has expired and finished by another worker', async () => {
    survivor = new BullMqJobQueue({
      url: REDIS_URL as string,
      prefix,
      newId: (idPrefix) => newId(idPrefix, Date.now()),
      pollMs: 20,
      leaseMs: BULLMQ_LEASE_MS,
    });
    survivor.define({ type: 'test.hang', handler: async ({ attempt }) => ({ finishedOnAttempt: attempt }) });
    const job = await survivor.enqueue('test.hang', null);
    const worker = await startDoomedWorker(
      {
        AIHUB_TEST_REDIS_URL: REDIS_URL as string,
        AIHUB_TEST_REDIS_PREFIX: prefix,
        AIHUB_TEST_LEASE_MS: String(BULLMQ_LEASE_MS),
      },
      job.id,
    );
    expect((await survivor.get(job.id))?.state).toBe('running');
    await worker.kill();
    const killedAt = Date.now();

    await survivor.start();
    const end = Date.now() + 15_000;
    let done = await survivor.get(job.id);
    while (done?.state !== 'succeeded' && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      done = await survivor.get(job.id);
    }
    expect(done).toMatchObject({ state: 'succeeded', attempts: 2, result: { finishedOnAttempt: 2 } });
    // Not before the dead worker's lock ran out (renewed every half lease, so at least half a lease after).
    expect(done?.startedAt as number).toBeGreaterThanOrEqual(killedAt + BULLMQ_LEASE_MS / 2);
  }, 90_000);
});
