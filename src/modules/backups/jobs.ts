import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/index.js';
import { backupDatabase } from '../../infra/db/backup.js';
import type { DatabaseHandle } from '../../infra/db/client.js';
import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { JobQueue } from '../../jobs/types.js';

export const BACKUP_JOB = 'ops.backup';
export const BACKUP_SCHEDULE = 'ops.backup.scheduled';

const PREFIX = 'aihub-backup-';
const SUFFIX = '.jsonl.gz';

export interface BackupResult {
  file: string;
  rows: number;
  /** Older backups deleted to keep `AIHUB_BACKUP_KEEP`. */
  pruned: string[];
}

/** `aihub-backup-20261207T030000.000Z.jsonl.gz`: names sort by time. */
export function backupFileName(at: Date): string {
  return `${PREFIX}${at.toISOString().replace(/[-:]/g, '')}${SUFFIX}`;
}

/**
 * Backups as a job (the same file `aihub backup` writes), scheduled when `AIHUB_BACKUP_SCHEDULE` is set: one run
 * per tick across every instance, retried once, visible with its result on the Jobs page. After each
 * backup the oldest files beyond `AIHUB_BACKUP_KEEP` are deleted; files not named like ours are never touched.
 */
export function registerBackupJobs(
  jobs: JobQueue,
  database: DatabaseHandle,
  config: Config['backups'],
  log: BackgroundLogTarget,
  now: () => Date = () => new Date(),
): void {
  jobs.define<null, BackupResult>({
    type: BACKUP_JOB,
    attempts: 2,
    backoff: { baseMs: 300_000, maxMs: 900_000 },
    handler: async ({ progress }) => {
      await mkdir(config.dir, { recursive: true, mode: 0o700 });
      const file = join(config.dir, backupFileName(now()));
      try {
        const { tables } = await backupDatabase(database, file, now);
        const rows = tables.reduce((sum, t) => sum + t.rows, 0);
        await progress(90, `wrote ${rows} rows`);
        const pruned = await prune(config.dir, config.keep);
        log.info({ file, rows, pruned: pruned.length }, `backup written to ${file}`);
        return { file, rows, pruned };
      } catch (error) {
        await rm(file, { force: true });
        log.error({ err: error, file }, 'scheduled backup failed');
        throw error;
      }
    },
  });
  if (config.schedule) jobs.schedule({ name: BACKUP_SCHEDULE, type: BACKUP_JOB, cron: config.schedule });
}

async function prune(dir: string, keep: number): Promise<string[]> {
  const ours = (await readdir(dir)).filter((f) => f.startsWith(PREFIX) && f.endsWith(SUFFIX)).sort();
  const doomed = ours.slice(0, Math.max(0, ours.length - keep));
  for (const name of doomed) await rm(join(dir, name), { force: true });
  return doomed;
}
