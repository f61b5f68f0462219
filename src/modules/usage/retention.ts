import type { Clock } from '../../core/clock.js';
import type { UsageRepository } from './repository.js';

const DAY_MS = 86_400_000;

export interface LogRetentionOptions {
  /** Days of request log to keep; 0 keeps everything (read at each run, so a settings change applies next time). */
  retentionDays: () => number;
  /** Rows deleted per statement. Small enough that one SQLite write transaction stays short. */
  batchSize?: number;
}

export interface PurgeResult {
  /** Rows deleted by this run. */
  deleted: number;
  /** Rows older than this (epoch ms) were deleted; null when retention is off. */
  cutoff: number | null;
}

/**
 * Deletes request-log rows older than the retention setting, one batch per statement, yielding to the
 * event loop between batches: on SQLite every statement holds the single write lock, so one huge DELETE
 * would stall the usage writer (and every other write) until it finished. Rows a lifetime budget or quota
 * counts are kept whatever the retention (see UsageRepository.deleteOlderThan).
 */
export class LogRetention {
  readonly #batchSize: number;

  constructor(
    private readonly repo: UsageRepository,
    private readonly clock: Clock,
    private readonly options: LogRetentionOptions,
  ) {
    this.#batchSize = options.batchSize ?? 5_000;
  }

  /**
   * Delete every row older than the retention window, batch by batch, until none is left or `signal` aborts
   * (checked between batches, so stopping waits for at most one batch).
   */
  async purge(signal?: AbortSignal): Promise<PurgeResult> {
    const days = this.options.retentionDays();
    if (!(days > 0)) return { deleted: 0, cutoff: null };
    const cutoff = this.clock.now() - days * DAY_MS;
    let deleted = 0;
    while (!signal?.aborted) {
      const batch = await this.repo.deleteOlderThan(cutoff, this.#batchSize);
      deleted += batch;
      if (batch < this.#batchSize) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { deleted, cutoff };
  }
}
