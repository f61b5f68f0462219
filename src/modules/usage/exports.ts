/**
 * Request-log exports as jobs: a large range becomes a CSV file produced in the background (streamed from the
 * database into the BlobStore a page at a time) and downloaded when ready, instead of one long request. The
 * export is its user's job (on their Jobs page); its query was scoped like the log list when it was created.
 */
import type { BlobStore } from '../../infra/blobs/index.js';
import type { JobQueue } from '../../jobs/types.js';
import type { LogQuery, LogsService } from './logs.js';

export const EXPORT_JOB = 'logs.export';

export type ExportQuery = Omit<LogQuery, 'limit'>;

export interface ExportResult {
  rows: number;
  bytes: number;
  filename: string;
}

export const exportBlobKey = (jobId: string) => `exports/${jobId}.csv`;

/** Register the export job type. */
export function registerExportJobs(jobs: JobQueue, deps: { logs: LogsService; blobs: BlobStore }): void {
  jobs.define<{ query: ExportQuery }, ExportResult>({
    type: EXPORT_JOB,
    concurrency: 2,
    attempts: 3,
    backoff: { baseMs: 5_000, maxMs: 60_000 },
    timeoutMs: 60 * 60_000,
    handler: async ({ id, payload, signal, progress }) => {
      let rows = -1;
      let reported = 0;
      async function* pages(): AsyncGenerator<string> {
        for await (const page of deps.logs.csv(payload.query)) {
          if (signal.aborted) throw new Error('the export was stopped');
          for (let i = page.indexOf('\n'); i !== -1; i = page.indexOf('\n', i + 1)) rows++;
          if (rows - reported >= 10_000) {
            reported = rows;
            await progress(0, `${rows} rows`);
          }
          yield page;
        }
      }
      const bytes = await deps.blobs.write(exportBlobKey(id), pages());
      await progress(100, `${rows} rows`);
      return { rows, bytes, filename: `aihub-logs-${id}.csv` };
    },
  });
}
