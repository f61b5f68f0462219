/**
 * Request-log retention on both databases: the `logRetentionDays` setting (validated, audited, stored),
 * the purge that deletes only rows older than it, in batches, and the job that runs the purge once at start
 * and then hourly (a cron schedule of the job queue), logs what it deleted, and stops when asked.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RequestLogsTable } from '../../src/infra/db/schema.js';
import { UsageRepository } from '../../src/modules/usage/repository.js';
import { LogRetention } from '../../src/modules/usage/retention.js';
import { type BackgroundLog, startBackground } from '../../src/services.js';
import { auditRows, MASTER_KEY } from '../support/accounts.js';
import { type Call, client, ManualClock, register, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { logRow } from '../support/log-rows.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 10, 12, 0, 0);

let rows = 0;
/** A request-log row at `at` (epoch ms). */
function rowAt(at: number): RequestLogsTable {
  rows += 1;
  return logRow({ id: `req_retention_${String(rows).padStart(6, '0')}`, at, cost_micros: 3, price_micros: 3 });
}

/** Records what the background loop logs. */
function recordingLog() {
  const lines: Array<{ level: string; detail: Record<string, unknown>; message: string }> = [];
  const log: BackgroundLog = {
    info: (detail, message) => lines.push({ level: 'info', detail, message }),
    debug: (detail, message) => lines.push({ level: 'debug', detail, message }),
    error: (detail, message) => lines.push({ level: 'error', detail, message }),
  };
  return { log, lines };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Give a purge that may have been started (wrongly) the real time to reach the database and log. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe.each(ENGINES)('request-log retention (%s)', (engine) => {
  let t: TestApp;
  let call: Call;
  const clock = new ManualClock(NOW);

  const insert = async (...ats: number[]) => {
    const values = ats.map(rowAt);
    await t.database.handle.db.insertInto('request_logs').values(values).execute();
    return values.map((v) => v.id);
  };
  const remainingIds = async () =>
    (await t.database.handle.db.selectFrom('request_logs').select('id').orderBy('id').execute()).map((r) => r.id);
  const setRetention = (days: number) => t.services.settings.update({ logRetentionDays: days });

  beforeAll(async () => {
    t = await startTestApp({ engine, clock, env: { AIHUB_MASTER_KEY: MASTER_KEY, AIHUB_JOBS_POLL_MS: '20' } });
    call = client(t.url);
    // The first account of an instance becomes its admin; later ones are plain users.
    await register(call, `owner-${engine}@example.com`);
  });
  afterAll(async () => t?.close());
  beforeEach(async () => {
    clock.time = NOW;
    await t.database.handle.db.deleteFrom('request_logs').execute();
    await setRetention(0);
  });

  describe('the logRetentionDays setting', () => {
    it('defaults to 0 (keep forever) and is changed, stored and audited through /api/admin/settings', async () => {
      const before = await call<{ logRetentionDays: number }>('GET', '/api/admin/settings', { token: MASTER_KEY });
      expect(before.status).toBe(200);
      expect(before.body.logRetentionDays).toBe(0);

      const res = await call<{ logRetentionDays: number }>('PATCH', '/api/admin/settings', {
        token: MASTER_KEY,
        body: { logRetentionDays: 90 },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.logRetentionDays).toBe(90);
      expect(t.services.settings.get().logRetentionDays).toBe(90);
      const stored = await t.database.handle.db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', 'log_retention_days')
        .executeTakeFirst();
      expect(stored?.value).toBe('90');
      const [audit] = await auditRows(t, { action: 'settings.update' });
      expect(audit?.detail).toEqual({ logRetentionDays: 90 });

      // Reloading (another instance's view, or a restart) keeps it.
      await t.services.settings.load();
      expect(t.services.settings.get().logRetentionDays).toBe(90);
      expect(
        (await call('PATCH', '/api/admin/settings', { token: MASTER_KEY, body: { logRetentionDays: 3650 } })).status,
      ).toBe(200);
      expect(
        (await call('PATCH', '/api/admin/settings', { token: MASTER_KEY, body: { logRetentionDays: 0 } })).status,
      ).toBe(200);
    });

    it.each([
      ['negative', -1],
      ['more than ten years', 3651],
      ['a fraction', 1.5],
      ['not a number', 'forever'],
    ])('refuses %s with 400 and changes nothing', async (_name, value) => {
      const res = await call<{ error: { code: string; message: string } }>('PATCH', '/api/admin/settings', {
        token: MASTER_KEY,
        body: { logRetentionDays: value },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('logRetentionDays');
      expect(t.services.settings.get().logRetentionDays).toBe(0);
    });

    it('is for admins only', async () => {
      const user = await register(call, `retention-${engine}@example.com`);
      const res = await call('PATCH', '/api/admin/settings', { token: user.token, body: { logRetentionDays: 1 } });
      expect(res.status).toBe(403);
      expect((await call('PATCH', '/api/admin/settings', { body: { logRetentionDays: 1 } })).status).toBe(401);
      expect(t.services.settings.get().logRetentionDays).toBe(0);
    });
  });

  describe('the purge', () => {
    it('deletes rows older than the retention and keeps the recent ones', async () => {
      await insert(NOW - 400 * DAY, NOW - 31 * DAY, NOW - 30 * DAY - 1);
      const kept = await insert(NOW - 30 * DAY, NOW - 29 * DAY, NOW - 1_000, NOW);
      await setRetention(30);
      const result = await t.services.retention.purge();
      expect(result).toEqual({ deleted: 3, cutoff: NOW - 30 * DAY });
      expect(await remainingIds()).toEqual(kept);
      // Nothing more to do on a second run.
      expect((await t.services.retention.purge()).deleted).toBe(0);
      expect(await remainingIds()).toEqual(kept);
    });

    it('keeps the rows that lifetime budgets and quotas are counted from', async () => {
      const lifetimeUser = await register(call, `lifetime-${engine}@example.com`);
      const plainUser = await register(call, `plain-${engine}@example.com`);
      await t.services.limits.set('user', lifetimeUser.userId, { budgetMicros: 1_000, budgetPeriod: 'lifetime' });
      const key = await call<{ key: { id: string } }>('POST', '/api/keys', {
        token: plainUser.token,
        body: { name: 'lifetime quota', tokenQuota: 1_000, tokenQuotaPeriod: 'lifetime' },
      });
      expect(key.status).toBe(201);
      const old = NOW - 100 * DAY;
      const owned = (at: number, userId: string | null, keyId: string | null) => ({
        ...rowAt(at),
        user_id: userId,
        key_id: keyId,
      });
      const values = [
        owned(old, lifetimeUser.userId, null), // the user's lifetime budget counts it: kept
        owned(old, plainUser.userId, key.body.key.id), // the key's lifetime quota counts it: kept
        owned(old, plainUser.userId, null), // no lifetime limit: deleted
        owned(old, null, null), // master key: deleted
      ];
      await t.database.handle.db.insertInto('request_logs').values(values).execute();
      await setRetention(30);
      expect((await t.services.retention.purge()).deleted).toBe(2);
      expect(await remainingIds()).toEqual([values[0]?.id, values[1]?.id]);
    });

    it('keeps everything when retention is 0', async () => {
      const all = await insert(NOW - 3000 * DAY, NOW - 365 * DAY, NOW);
      expect(await t.services.retention.purge()).toEqual({ deleted: 0, cutoff: null });
      expect(await remainingIds()).toEqual(all);
    });

    it('deletes in batches until no old row is left', async () => {
      const small = new LogRetention(new UsageRepository(t.database.handle.db), clock, {
        retentionDays: () => 7,
        batchSize: 3,
      });
      await insert(...Array.from({ length: 10 }, (_, i) => NOW - 8 * DAY - i));
      const kept = await insert(NOW - 6 * DAY, NOW);
      expect((await small.purge()).deleted).toBe(10);
      expect(await remainingIds()).toEqual(kept);

      // An exact multiple of the batch size ends too.
      await insert(...Array.from({ length: 6 }, (_, i) => NOW - 10 * DAY - i));
      expect((await small.purge()).deleted).toBe(6);
      expect(await remainingIds()).toEqual(kept);
    });

    it('stops between batches when aborted', async () => {
      const small = new LogRetention(new UsageRepository(t.database.handle.db), clock, {
        retentionDays: () => 7,
        batchSize: 2,
      });
      await insert(NOW - 8 * DAY, NOW - 9 * DAY, NOW - 10 * DAY);
      const stopped = new AbortController();
      stopped.abort();
      expect((await small.purge(stopped.signal)).deleted).toBe(0);
      expect(await remainingIds()).toHaveLength(3);
    });

    it('follows the clock: rows age out as time passes', async () => {
      await setRetention(1);
      const [old] = await insert(NOW - 12 * 3_600_000);
      expect((await t.services.retention.purge()).deleted).toBe(0);
      clock.advance(13 * 3_600_000);
      expect((await t.services.retention.purge()).deleted).toBe(1);
      expect(await remainingIds()).not.toContain(old);
    });
  });

  describe('the background loop', () => {
    it('purges once at start and then hourly, logs how many rows went, and stops', async () => {
      await insert(NOW - 10 * DAY, NOW - 9 * DAY);
      const kept = await insert(NOW);
      await setRetention(7);
      const { log, lines } = recordingLog();
      const stop = startBackground(t.services, { log });
      const purges = async () =>
        (await t.services.jobs.list({ scope: null, type: 'usage.purge-logs', limit: 100, offset: 0 })).total;
      const before = await purges();
      try {
        await until(async () => lines.length > 0);
        expect(lines).toEqual([
          { level: 'info', detail: { deleted: 2, before: NOW - 7 * DAY }, message: 'purged 2 request log rows' },
        ]);
        expect(await remainingIds()).toEqual(kept);
        const schedule = (await t.services.jobs.schedules()).find((s) => s.name === 'usage.purge-logs.hourly');
        expect(schedule).toMatchObject({ enabled: true, cron: '0 * * * *' });

        // Not again within the hour…
        await insert(NOW - 8 * DAY);
        clock.advance(59 * 60_000);
        await settle();
        expect(lines).toHaveLength(1);
        expect(await remainingIds()).toHaveLength(2);
        // …but at the hour, as a job of the schedule.
        clock.advance(60_000);
        await until(async () => lines.length > 1);
        expect(lines[1]).toMatchObject({ level: 'info', detail: { deleted: 1 } });
        expect(await remainingIds()).toEqual(kept);
        const latest = async () =>
          (await t.services.jobs.list({ scope: null, type: 'usage.purge-logs', limit: 1, offset: 0 })).data[0];
        await until(async () => (await latest())?.state === 'succeeded');
        expect(await latest()).toMatchObject({ scheduleName: 'usage.purge-logs.hourly', result: { deleted: 1 } });

        // A run with nothing to delete is quiet at info level.
        clock.advance(60 * 60_000);
        await until(async () => lines.length > 2);
        expect(lines[2]?.level).toBe('debug');
      } finally {
        await stop();
      }
      // Stopped: no more runs.
      const total = await purges();
      expect(total).toBeGreaterThan(before);
      await insert(NOW - 8 * DAY);
      clock.advance(2 * 60 * 60_000);
      await settle();
      expect(lines).toHaveLength(3);
      expect(await remainingIds()).toHaveLength(2);
      expect(await purges()).toBe(total);
    });

    it('logs a failing request-log write as an error, keeps the rows and writes them once it can', async () => {
      const { log, lines } = recordingLog();
      const stop = startBackground(t.services, { log });
      try {
        // A row already in the table with the same id: the writer's insert fails.
        const [id] = await insert(NOW);
        t.services.recorder.record({ ...rowAt(NOW), id: id as string });
        await t.services.recorder.flush();
        expect(lines.find((l) => l.level === 'error')).toMatchObject({
          message: 'writing the request log failed; the rows are kept and retried',
          detail: { pending: 1, dropped: 0 },
        });
        expect(t.services.recorder.pending).toBe(1);
        await t.database.handle.db.deleteFrom('request_logs').execute();
        await t.services.recorder.flush();
        expect(t.services.recorder.pending).toBe(0);
        expect(await remainingIds()).toEqual([id]);
      } finally {
        await stop();
      }
    });

    it('logs a failing purge as an error and keeps the app running', async () => {
      await setRetention(7);
      const { log, lines } = recordingLog();
      const spy = vi.spyOn(t.services.retention, 'purge').mockRejectedValueOnce(new Error('disk full'));
      const stop = startBackground(t.services, { log });
      try {
        await until(() => lines.length > 0);
        expect(lines[0]).toMatchObject({ level: 'error', message: 'request log purge failed' });
      } finally {
        await stop();
        spy.mockRestore();
      }
    });
  });
});
