/**
 * The jobs API over HTTP: admins of an organization list, inspect, cancel, retry and delete its jobs (platform
 * admins also the instance's own), users see and cancel the jobs they started, schedules are the platform's;
 * every admin action is audited; another organization's jobs do not exist for the caller.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, ScheduleRecord } from '../../src/jobs/types.js';
import { auditRows, type ErrorBody, MASTER_KEY } from '../support/accounts.js';
import { ENGINES, type EngineName } from '../support/databases.js';
import { inOrg, startTenancy, type Tenancy, type TenantOrg } from '../support/tenancy.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each engine with the embedded queue, and BullMQ on Redis (TEST_REDIS_URL): the API behaves the same. */
const CASES: Array<[string, EngineName, 'embedded' | 'bullmq']> = [
  ...ENGINES.map((engine): [string, EngineName, 'embedded'] => [`${engine}, embedded queue`, engine, 'embedded']),
  ...(process.env.TEST_REDIS_URL
    ? [['sqlite, BullMQ queue', 'sqlite', 'bullmq'] as [string, EngineName, 'bullmq']]
    : []),
];

describe.each(CASES)('jobs API (%s)', (_name, engine, queue) => {
  let env: Tenancy;
  let a: TenantOrg;
  let b: TenantOrg;
  let failNext = true;
  beforeAll(async () => {
    env = await startTenancy(
      engine,
      2,
      queue === 'bullmq'
        ? { backend: 'redis', env: { REDIS_URL: process.env.TEST_REDIS_URL as string, AIHUB_JOBS: 'bullmq' } }
        : {},
    );
    expect(env.t.services.jobs.backend).toBe(queue);
    [a, b] = env.orgs as [TenantOrg, TenantOrg];
    const jobs = env.t.services.jobs;
    jobs.define<{ steps: number }, { ok: boolean }>({
      type: 'test.export',
      handler: async ({ progress, signal }) => {
        await progress(40, 'rows 400 of 1000');
        await new Promise<void>((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
        });
        return { ok: true };
      },
    });
    jobs.define({
      type: 'test.fragile',
      attempts: 1,
      handler: async () => {
        if (failNext) throw new Error('disk full');
        return 'written';
      },
    });
    await jobs.start();
  }, 120_000);
  afterAll(async () => {
    await env?.t.services.jobs.stop(0);
    await env?.close();
  });

  const get = (path: string, who: { token: string }, org: TenantOrg) =>
    env.call<JobRecord & ErrorBody>('GET', path, inOrg(who, org.id));
  const until = async (path: string, who: { token: string }, org: TenantOrg, ok: (j: JobRecord) => boolean) => {
    const end = Date.now() + 5_000;
    for (;;) {
      const res = await get(path, who, org);
      if (res.status === 200 && ok(res.body)) return res.body;
      if (Date.now() > end) throw new Error(`${path}: ${JSON.stringify(res.body)}`);
      await sleep(25);
    }
  };

  it('shows a running job’s progress, lets its owner cancel it, and hides it from others', async () => {
    const dev = a.members.developer;
    const job = await env.t.services.jobs.enqueue('test.export', { steps: 3 }, { orgId: a.id, userId: dev.userId });
    const running = await until(`/api/jobs/${job.id}`, dev, a, (j) => j.progress === 40);
    expect(running).toMatchObject({ state: 'running', progressMessage: 'rows 400 of 1000', userId: dev.userId });

    const mine = await env.call<{ data: JobRecord[]; total: number }>('GET', '/api/jobs', inOrg(dev, a.id));
    expect(mine.body.data.map((j) => j.id)).toContain(job.id);
    expect(mine.body.data.every((j) => j.userId === dev.userId)).toBe(true);
    // Another member of the organization does not see it as theirs; nor does another organization at all.
    expect((await get(`/api/jobs/${job.id}`, a.members.team_admin, a)).status).toBe(404);
    expect((await get(`/api/admin/jobs/${job.id}`, b.members.owner, b)).status).toBe(404);
    expect((await env.call('POST', `/api/admin/jobs/${job.id}/cancel`, inOrg(b.members.owner, b.id))).status).toBe(404);
    expect((await env.call('POST', `/api/jobs/${job.id}/cancel`, inOrg(a.members.team_admin, a.id))).status).toBe(404);

    // A running job cannot be deleted.
    expect((await env.call('DELETE', `/api/admin/jobs/${job.id}`, inOrg(a.members.owner, a.id))).status).toBe(409);
    const cancelled = await env.call<JobRecord>('POST', `/api/jobs/${job.id}/cancel`, inOrg(dev, a.id));
    expect(cancelled.status).toBe(200);
    expect((await until(`/api/jobs/${job.id}`, dev, a, (j) => j.state === 'cancelled')).error).toBe('cancelled');
    // Finished: cancelling again is a conflict.
    const again = await env.call<ErrorBody>('POST', `/api/jobs/${job.id}/cancel`, inOrg(dev, a.id));
    expect(again.status).toBe(409);
  });

  it('lets an organization admin filter, retry and delete its jobs, audited', async () => {
    const owner = a.members.owner;
    const job = await env.t.services.jobs.enqueue('test.fragile', null, { orgId: a.id });
    await until(`/api/admin/jobs/${job.id}`, owner, a, (j) => j.state === 'failed');
    const failed = await env.call<{ data: JobRecord[]; total: number }>(
      'GET',
      '/api/admin/jobs?state=failed&type=test.fragile',
      inOrg(owner, a.id),
    );
    expect(failed.body.data.map((j) => j.id)).toEqual([job.id]);
    expect(failed.body.data[0]).toMatchObject({ error: 'disk full', attempts: 1, maxAttempts: 1 });
    // B's admin lists only B's jobs.
    const bList = await env.call<{ data: JobRecord[] }>(
      'GET',
      '/api/admin/jobs?limit=200',
      inOrg(b.members.owner, b.id),
    );
    expect(bList.body.data.map((j) => j.id)).toEqual([b.job]);

    // A developer may not see or retry the organization's jobs (jobs.all); a bad state filter is a 400.
    expect((await env.call('GET', '/api/admin/jobs', inOrg(a.members.developer, a.id))).status).toBe(403);
    expect((await env.call('POST', `/api/admin/jobs/${job.id}/retry`, inOrg(a.members.developer, a.id))).status).toBe(
      403,
    );
    expect((await env.call('GET', '/api/admin/jobs?state=exploded', inOrg(owner, a.id))).status).toBe(400);

    failNext = false;
    const retried = await env.call<JobRecord>('POST', `/api/admin/jobs/${job.id}/retry`, inOrg(owner, a.id));
    expect(retried.status).toBe(200);
    expect((await until(`/api/admin/jobs/${job.id}`, owner, a, (j) => j.state === 'succeeded')).result).toBe('written');
    const twice = await env.call<ErrorBody>('POST', `/api/admin/jobs/${job.id}/retry`, inOrg(owner, a.id));
    expect(twice.status).toBe(409);

    expect((await env.call('DELETE', `/api/admin/jobs/${job.id}`, inOrg(owner, a.id))).status).toBe(204);
    expect((await get(`/api/admin/jobs/${job.id}`, owner, a)).status).toBe(404);
    const audit = await auditRows(env.t, { action: 'job.*', targetId: job.id }, { orgId: a.id, instanceWide: false });
    expect(audit.map((r) => r.action).sort()).toEqual(['job.delete', 'job.retry']);
  });

  it('shows the instance’s own jobs and schedules to platform admins only; a schedule can be disabled', async () => {
    const system = await env.t.services.jobs.enqueue('test.fragile', null, { delayMs: 3_600_000 });
    expect((await get(`/api/admin/jobs/${system.id}`, a.members.owner, a)).status).toBe(404);
    expect((await get(`/api/admin/jobs/${system.id}`, env.admin, a)).status).toBe(200);
    const adminList = await env.call<{ data: JobRecord[] }>('GET', '/api/admin/jobs?type=test.fragile', {
      token: MASTER_KEY,
    });
    expect(adminList.body.data.map((j) => j.id)).toContain(system.id);

    expect((await env.call('GET', '/api/admin/jobs/schedules', inOrg(a.members.owner, a.id))).status).toBe(403);
    const schedules = await env.call<{ data: ScheduleRecord[] }>('GET', '/api/admin/jobs/schedules', {
      token: env.admin.token,
    });
    const purge = schedules.body.data.find((s) => s.name === 'usage.purge-logs.hourly');
    expect(purge).toMatchObject({ enabled: true, cron: '0 * * * *', type: 'usage.purge-logs' });
    const off = await env.call<ScheduleRecord>('PATCH', '/api/admin/jobs/schedules/usage.purge-logs.hourly', {
      token: env.admin.token,
      body: { enabled: false },
    });
    expect(off.body.enabled).toBe(false);
    const missing = await env.call<ErrorBody>('PATCH', '/api/admin/jobs/schedules/nope', {
      token: env.admin.token,
      body: { enabled: true },
    });
    expect(missing.status).toBe(404);
    const bad = await env.call('PATCH', '/api/admin/jobs/schedules/usage.purge-logs.hourly', {
      token: env.admin.token,
      body: { enabled: 'maybe' },
    });
    expect(bad.status).toBe(400);
    const audit = await auditRows(env.t, { action: 'job_schedule.*' });
    expect(audit.map((r) => r.action)).toContain('job_schedule.disable');
  });

  it('refuses a caller without a session', async () => {
    expect((await env.call('GET', '/api/admin/jobs')).status).toBe(401);
    expect((await env.call('GET', '/api/jobs')).status).toBe(401);
  });
});
