/**
 * Scheduled backups: AIHUB_BACKUP_SCHEDULE stores a schedule of the `ops.backup` job; each run writes the same file
 * `aihub backup` writes into AIHUB_BACKUP_DIR and keeps the newest AIHUB_BACKUP_KEEP of them; a file restores into
 * an empty database with the accounts in it. A cron expression that never fires is refused at start.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { readBackupHeader, restoreDatabase } from '../../src/infra/db/backup.js';
import type { JobRecord } from '../../src/jobs/types.js';
import { BACKUP_JOB, BACKUP_SCHEDULE } from '../../src/modules/backups/jobs.js';
import { uniqueEmail } from '../support/accounts.js';
import { client, register, startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, ENGINES } from '../support/databases.js';

describe.each(ENGINES)('scheduled backups (%s)', (engine) => {
  let t: TestApp;
  let dir: string;
  let email: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aihub-backups-'));
    t = await startTestApp({
      engine,
      env: { AIHUB_BACKUP_SCHEDULE: '0 3 * * *', AIHUB_BACKUP_DIR: dir, AIHUB_BACKUP_KEEP: '2' },
    });
    email = uniqueEmail('backed-up');
    await register(client(t.url), email);
    await t.services.jobs.start();
  }, 60_000);
  afterAll(async () => {
    await t?.services.jobs.stop(0);
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function finished(job: JobRecord): Promise<JobRecord> {
    const end = Date.now() + 20_000;
    for (;;) {
      const now = await t.services.jobs.get(job.id);
      if (now && ['succeeded', 'failed', 'cancelled'].includes(now.state)) return now;
      if (Date.now() > end) throw new Error(`backup job still ${now?.state}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('stores the schedule with its cron expression, enabled', async () => {
    const schedule = (await t.services.jobs.schedules()).find((s) => s.name === BACKUP_SCHEDULE);
    expect(schedule).toMatchObject({ type: BACKUP_JOB, cron: '0 3 * * *', enabled: true });
    expect(schedule?.nextRunAt).toBeGreaterThan(Date.now());
  });

  it('writes a backup per run, keeps the newest two, and leaves other files alone', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await finished(await t.services.jobs.enqueue(BACKUP_JOB, null));
      expect(job.state).toBe('succeeded');
      const result = job.result as { file: string; rows: number; pruned: string[] };
      expect(result.rows).toBeGreaterThan(0);
      files.push(result.file);
    }
    const left = readdirSync(dir).sort();
    expect(left).toEqual(['notes.txt', ...files.slice(1).map((f) => f.slice(dir.length + 1))].sort());
    expect((await readBackupHeader(files[2] as string)).engine).toBe(engine);
  });

  it('restores the newest file into a new database, accounts included', async () => {
    const newest = readdirSync(dir)
      .filter((f) => f.startsWith('aihub-backup-'))
      .sort()
      .pop() as string;
    const target = await createTestDatabase(engine);
    try {
      // A new, migrated database (holding only the defaults the migrations insert) takes the backup whole.
      await restoreDatabase(target.handle, join(dir, newest), { replace: true });
      const user = await target.handle.db
        .selectFrom('users')
        .select('email')
        .where('email', '=', email)
        .executeTakeFirst();
      expect(user?.email).toBe(email);
    } finally {
      await target.drop();
    }
  });
});

describe('AIHUB_BACKUP_SCHEDULE', () => {
  it('refuses an expression that is not cron, or never fires, naming the variable', () => {
    for (const bad of ['every night', '0 0 31 2 *']) {
      let error: unknown;
      try {
        loadConfig({ AIHUB_BACKUP_SCHEDULE: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).toContain('AIHUB_BACKUP_SCHEDULE');
    }
    expect(loadConfig({ AIHUB_DATA_DIR: '/srv/aihub' }).backups).toEqual({
      schedule: undefined,
      dir: '/srv/aihub/backups',
      keep: 7,
    });
  });
});
