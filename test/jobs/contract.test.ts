/**
 * The job queue contract: every implementation of JobQueue passes this one suite — embedded on SQLite, embedded
 * on PostgreSQL (TEST_DATABASE_URL) and BullMQ on Redis (TEST_REDIS_URL); those without their variable are skipped
 * with the reason.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JobContext, JobInterrupted, type JobQueue, type JobRecord, type JobState } from '../../src/jobs/types.js';
import { HARNESSES, JumpClock, type QueueHarness } from '../support/jobs.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until the job is in one of `states` (fails after `ms`). */
async function until(queue: JobQueue, id: string, states: JobState[], ms = 5_000): Promise<JobRecord> {
  const end = Date.now() + ms;
  for (;;) {
    const job = await queue.get(id);
    if (job && states.includes(job.state)) return job;
    if (Date.now() > end) throw new Error(`job ${id} is ${job?.state ?? 'missing'}, expected ${states.join('|')}`);
    await sleep(15);
  }
}

/** Resolves when the signal aborts (a handler that honours cancellation). */
const aborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

for (const factory of HARNESSES) {
  if (factory.skip) {
    describe.skip(`job queue contract (${factory.name}): skipped, ${factory.skip}`, () => {
      it('runs', () => undefined);
    });
    continue;
  }
  describe(`job queue contract (${factory.name})`, () => {
    let harness: QueueHarness;
    let clock: JumpClock;
    let queue: JobQueue;
    beforeAll(async () => {
      harness = await factory.open();
    }, 30_000);
    afterAll(async () => harness?.close());
    afterEach(async () => queue?.stop(0));

    /** A fresh queue (its own job types) over the shared store. */
    const fresh = () => {
      clock = new JumpClock();
      queue = harness.create(clock);
      return queue;
    };
    let seq = 0;
    const typeName = (what: string) => `test.${what}.${++seq}`;

    it('runs a job, stores its result, and counts the attempt', async () => {
      const q = fresh();
      const type = typeName('echo');
      q.define<{ n: number }, { doubled: number }>({
        type,
        handler: async ({ payload }) => ({ doubled: payload.n * 2 }),
      });
      await q.start();
      const job = await q.enqueue(type, { n: 21 }, { orgId: 'org_default', userId: 'usr_1' });
      expect(job.state).toBe('queued');
      const done = await until(q, job.id, ['succeeded']);
      expect(done).toMatchObject({
        result: { doubled: 42 },
        attempts: 1,
        progress: 100,
        orgId: 'org_default',
        userId: 'usr_1',
      });
      expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt as number);
    });

    it('runs the most urgent job first', async () => {
      const q = fresh();
      const type = typeName('order');
      const order: string[] = [];
      q.define<string, void>({
        type,
        handler: async ({ payload }) => {
          order.push(payload);
        },
      });
      const low = await q.enqueue(type, 'low', { priority: 1 });
      await q.enqueue(type, 'high', { priority: 10 });
      await q.enqueue(type, 'normal');
      await q.start();
      await until(q, low.id, ['succeeded']);
      await sleep(50);
      expect(order).toEqual(['high', 'low', 'normal']);
    });

    it('does not start a delayed job before its time', async () => {
      const q = fresh();
      const type = typeName('delayed');
      q.define({ type, handler: async () => 'ok' });
      await q.start();
      const job = await q.enqueue(type, null, { delayMs: 400 });
      await sleep(200);
      expect((await q.get(job.id))?.state).toBe('queued');
      const done = await until(q, job.id, ['succeeded']);
      expect(done.startedAt as number).toBeGreaterThanOrEqual(job.createdAt + 400);
    });

    it('retries a failing job with backoff, then succeeds', async () => {
      const q = fresh();
      const type = typeName('flaky');
      const starts: number[] = [];
      q.define({
        type,
        attempts: 3,
        backoff: { baseMs: 200, maxMs: 1_000 },
        handler: async ({ attempt }) => {
          starts.push(Date.now());
          if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
          return attempt;
        },
      });
      await q.start();
      const job = await q.enqueue(type, null);
      const done = await until(q, job.id, ['succeeded']);
      expect(done.attempts).toBe(3);
      expect(done.result).toBe(3);
      // Exponential with jitter: at least half of 200 ms, then of 400 ms.
      expect((starts[1] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(95);
      expect((starts[2] as number) - (starts[1] as number)).toBeGreaterThanOrEqual(195);
    });

    it('dead-letters after the last attempt, and a manual retry runs it again', async () => {
      const q = fresh();
      const type = typeName('dead');
      let fail = true;
      q.define({
        type,
        attempts: 2,
        backoff: { baseMs: 10, maxMs: 10 },
        handler: async () => {
          if (fail) throw new Error('upstream said no');
          return 'fine';
        },
      });
      await q.start();
      const job = await q.enqueue(type, null);
      const dead = await until(q, job.id, ['failed']);
      expect(dead).toMatchObject({ attempts: 2, error: 'upstream said no' });
      fail = false;
      const again = await q.retry(job.id);
      expect(['queued', 'running', 'succeeded']).toContain(again?.state);
      expect(await until(q, job.id, ['succeeded'])).toMatchObject({ result: 'fine', error: null });
      // A succeeded job is not retried.
      expect((await q.retry(job.id))?.state).toBe('succeeded');
    });

    it('fails an attempt that runs past its timeout, aborting its signal', async () => {
      const q = fresh();
      const type = typeName('slow');
      let sawAbort = false;
      q.define({
        type,
        attempts: 1,
        timeoutMs: 100,
        handler: async ({ signal }) => {
          await aborted(signal).catch((e: unknown) => {
            sawAbort = true;
            throw e;
          });
        },
      });
      await q.start();
      const job = await q.enqueue(type, null);
      const failed = await until(q, job.id, ['failed']);
      expect(failed.error).toMatch(/timed out after 100 ms/);
      expect(sawAbort).toBe(true);
    });

    it('cancels a queued job at once; it never runs', async () => {
      const q = fresh();
      const type = typeName('never');
      let ran = false;
      q.define({
        type,
        handler: async () => {
          ran = true;
        },
      });
      await q.start();
      const job = await q.enqueue(type, null, { delayMs: 300 });
      expect((await q.cancel(job.id))?.state).toBe('cancelled');
      await sleep(450);
      expect(ran).toBe(false);
      expect((await q.get(job.id))?.state).toBe('cancelled');
      expect(await q.cancel('job_missing')).toBeUndefined();
    });

    it('shows progress while running, and cancels a running job through its signal', async () => {
      const q = fresh();
      const type = typeName('long');
      let signal: AbortSignal | undefined;
      q.define({
        type,
        handler: async (ctx: JobContext) => {
          signal = ctx.signal;
          await ctx.progress(50, 'half way');
          await aborted(ctx.signal);
        },
      });
      await q.start();
      const job = await q.enqueue(type, null);
      const end = Date.now() + 5_000;
      let running = await until(q, job.id, ['running']);
      while (running.progress !== 50 && Date.now() < end) {
        await sleep(15);
        running = (await q.get(job.id)) as JobRecord;
      }
      expect(running).toMatchObject({ state: 'running', progress: 50, progressMessage: 'half way' });
      await q.cancel(job.id);
      expect(await until(q, job.id, ['cancelled'])).toMatchObject({ state: 'cancelled' });
      expect(signal?.aborted).toBe(true);
    });

    it('runs no more jobs of a type at once than its concurrency', async () => {
      const q = fresh();
      const type = typeName('parallel');
      let now = 0;
      let peak = 0;
      q.define({
        type,
        concurrency: 2,
        handler: async () => {
          peak = Math.max(peak, ++now);
          await sleep(60);
          now--;
        },
      });
      const jobs = await Promise.all(Array.from({ length: 6 }, () => q.enqueue(type, null)));
      await q.start();
      for (const job of jobs) await until(q, job.id, ['succeeded']);
      expect(peak).toBe(2);
    });

    it('starts a job after its parents succeed, and cancels it when a parent fails', async () => {
      const q = fresh();
      const type = typeName('step');
      const finished = new Map<string, number>();
      q.define<{ name: string; fail?: boolean }, void>({
        type,
        concurrency: 3,
        attempts: 1,
        handler: async ({ payload }) => {
          await sleep(payload.name === 'a' ? 150 : 20);
          if (payload.fail) throw new Error('broken');
          finished.set(payload.name, Date.now());
        },
      });
      const a = await q.enqueue(type, { name: 'a' });
      const b = await q.enqueue(type, { name: 'b' });
      const child = await q.enqueue(type, { name: 'child' }, { parents: [a.id, b.id] });
      expect(child.state).toBe('waiting');
      const bad = await q.enqueue(type, { name: 'bad', fail: true });
      const orphan = await q.enqueue(type, { name: 'orphan' }, { parents: [bad.id] });
      await q.start();
      await until(q, child.id, ['succeeded']);
      expect(finished.get('child') as number).toBeGreaterThan(finished.get('a') as number);
      expect((await q.get(child.id))?.parents.sort()).toEqual([a.id, b.id].sort());
      expect(await until(q, orphan.id, ['cancelled'])).toMatchObject({ error: expect.stringContaining(bad.id) });
      expect(finished.has('orphan')).toBe(false);
    });

    it('fires a cron schedule once per tick across instances; disabled, it does not fire', async () => {
      const q = fresh();
      const other = harness.create(clock);
      const type = typeName('cron');
      const name = `${type}.every-minute`;
      const runs: string[] = [];
      for (const instance of [q, other]) {
        instance.define({
          type,
          handler: async ({ id }) => {
            runs.push(id);
          },
        });
        instance.schedule({ name, type, cron: '* * * * *', payload: { from: 'schedule' } });
      }
      await Promise.all([q.start(), other.start()]);
      const listed = (await q.schedules()).find((s) => s.name === name);
      expect(listed).toMatchObject({ enabled: true, cron: '* * * * *', lastRunAt: null });
      expect(listed?.nextRunAt).toBeGreaterThan(clock.now());
      clock.offset += 61_000;
      const end = Date.now() + 5_000;
      while (runs.length < 1 && Date.now() < end) await sleep(20);
      await sleep(300);
      expect(runs).toHaveLength(1);
      const job = await q.get(runs[0] as string);
      expect(job).toMatchObject({ scheduleName: name, payload: { from: 'schedule' }, orgId: null });
      expect((await q.schedules()).find((s) => s.name === name)?.lastRunAt).not.toBeNull();

      expect((await q.setScheduleEnabled(name, false))?.enabled).toBe(false);
      clock.offset += 120_000;
      await sleep(300);
      expect(runs).toHaveLength(1);
      expect(await q.setScheduleEnabled('no.such.schedule', true)).toBeUndefined();
      await other.stop(0);
    });

    it('without workers (AIHUB_WORKERS=false) stores schedules and accepts jobs, but runs none', async () => {
      const q = fresh();
      const type = typeName('gateway-only');
      let ran = false;
      q.define({
        type,
        handler: async () => {
          ran = true;
        },
      });
      q.schedule({ name: `${type}.nightly`, type, cron: '0 3 * * *' });
      await q.start({ workers: false });
      const job = await q.enqueue(type, null);
      await sleep(200);
      expect(ran).toBe(false);
      expect((await q.get(job.id))?.state).toBe('queued');
      expect((await q.schedules()).map((s) => s.name)).toContain(`${type}.nightly`);
      await q.cancel(job.id);
    });

    it('lists jobs by type, state and organization, newest first', async () => {
      const q = fresh();
      const type = typeName('listed');
      q.define({ type, handler: async () => 'x' });
      const mine = await q.enqueue(type, 1, { orgId: 'org_default', userId: 'usr_me' });
      await sleep(3); // ids sort by time: a later millisecond
      const system = await q.enqueue(type, 2);
      const page = await q.list({ scope: { orgId: 'org_default', instanceWide: false }, type, limit: 10, offset: 0 });
      expect(page.data.map((j) => j.id)).toEqual([mine.id]);
      expect(page.total).toBe(1);
      const wide = await q.list({ scope: { orgId: 'org_default', instanceWide: true }, type, limit: 10, offset: 0 });
      expect(wide.data.map((j) => j.id)).toEqual([system.id, mine.id]);
      const byUser = await q.list({ scope: null, userId: 'usr_other', limit: 10, offset: 0 });
      expect(byUser.total).toBe(0);
      const queued = await q.list({ scope: null, type, state: 'queued', limit: 1, offset: 1 });
      expect(queued).toMatchObject({ total: 2, data: [{ id: mine.id }] });
      expect(await q.remove(system.id)).toBe('removed');
      expect(await q.get(system.id)).toBeUndefined();
      expect(await q.remove(system.id)).toBe('missing');
    });

    it('on shutdown lets running jobs finish, and puts back those that do not in time', async () => {
      const q = fresh();
      const type = typeName('shutdown');
      let release: (() => void) | undefined;
      const defineOn = (instance: JobQueue) =>
        instance.define<string, string>({
          type,
          concurrency: 2,
          handler: async ({ payload, signal }) => {
            if (payload === 'quick') await sleep(100);
            else if (instance === q) await aborted(signal);
            else await new Promise<void>((resolve) => (release = resolve));
            return `${payload} done`;
          },
        });
      defineOn(q);
      await q.start();
      const quick = await q.enqueue(type, 'quick');
      const stubborn = await q.enqueue(type, 'stubborn');
      await until(q, stubborn.id, ['running']);
      await until(q, quick.id, ['running']);
      await q.stop(300);
      expect((await q.get(quick.id))?.state).toBe('succeeded');
      const back = await q.get(stubborn.id);
      expect(back).toMatchObject({ state: 'queued', attempts: 0 });
      // Another worker takes it.
      const next = harness.create(clock);
      defineOn(next);
      await next.start();
      await until(next, stubborn.id, ['running']);
      release?.();
      expect(await until(next, stubborn.id, ['succeeded'])).toMatchObject({ result: 'stubborn done', attempts: 1 });
      await next.stop(0);
    });

    it('tells handlers a shutdown began; one that stops at a checkpoint is put back without using an attempt', async () => {
      const q = fresh();
      const type = typeName('checkpoint');
      let steps = 0;
      let sawStopping = false;
      let signalAbortedThen = true;
      const defineOn = (instance: JobQueue) =>
        instance.define<null, number>({
          type,
          attempts: 1,
          handler: async ({ stopping, signal }) => {
            while (steps < 200) {
              if (stopping.aborted && instance === q) {
                sawStopping = true;
                signalAbortedThen = signal.aborted;
                throw new JobInterrupted();
              }
              steps++;
              await sleep(10);
            }
            return steps;
          },
        });
      defineOn(q);
      await q.start();
      const job = await q.enqueue(type, null);
      await until(q, job.id, ['running']);
      await sleep(50);
      const started = Date.now();
      await q.stop(10_000);
      // It stopped at once, well within the grace period, before its signal aborted.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(sawStopping).toBe(true);
      expect(signalAbortedThen).toBe(false);
      expect(await q.get(job.id)).toMatchObject({ state: 'queued', attempts: 0 });
      // Its only attempt was not used: another worker finishes it from where it stopped.
      const next = harness.create(clock);
      defineOn(next);
      await next.start();
      expect(await until(next, job.id, ['succeeded'], 20_000)).toMatchObject({ result: 200, attempts: 1 });
      await next.stop(0);
    });

    it('retries the job of a worker killed mid-run after its lease runs out', async () => {
      const q = fresh();
      const type = typeName('orphaned');
      let runs = 0;
      const defineOn = (instance: JobQueue) =>
        instance.define({
          type,
          attempts: 3,
          handler: async ({ attempt }) => {
            runs++;
            if (instance === q) await new Promise(() => undefined); // hangs: its process is about to die
            return attempt;
          },
        });
      defineOn(q);
      await q.start();
      const job = await q.enqueue(type, null);
      await until(q, job.id, ['running']);
      await harness.crash(q);
      const survivor = harness.create(clock);
      defineOn(survivor);
      await survivor.start();
      const done = await until(survivor, job.id, ['succeeded'], 5_000);
      expect(done).toMatchObject({ attempts: 2, result: 2 });
      expect(runs).toBe(2);
      await survivor.stop(0);
    });
  });
}
