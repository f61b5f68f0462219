/**
 * kill -9 of a worker process mid-job: its lease runs out and another worker runs the job again; nothing is
 * lost and the interrupted attempt counts.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { EmbeddedJobQueue } from '../../src/jobs/embedded/queue.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';
import { childEnv, ROOT } from '../support/processes.js';

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

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/jobs-worker.ts'], {
      cwd: ROOT,
      env: childEnv({
        AIHUB_TEST_DB_URL: database.url ?? '',
        AIHUB_TEST_DATA_DIR: database.dataDir,
        AIHUB_TEST_LEASE_MS: String(LEASE_MS),
      }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the worker never ran the job')), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes(`running ${job.id}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect((await survivor.get(job.id))?.state).toBe('running');
    child.kill('SIGKILL');
    await exited;

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
