import { type Kysely, sql } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../infra/db/schema.js';

const DAY_MS = 86_400_000;

const LIFETIME = (prefix: string) =>
  sql.raw(
    `((${prefix}.budget_period = 'lifetime' AND ${prefix}.budget_micros IS NOT NULL) OR ` +
      `(${prefix}.token_quota_period = 'lifetime' AND ${prefix}.token_quota IS NOT NULL))`,
  );

/**
 * Lifetime budgets and quotas are counted from the request log itself (counters are rebuilt from it), so the
 * rows of a key, user, team or organization with a lifetime limit are kept whatever the retention.
 */
const KEEPS_NO_LIFETIME_LIMIT = sql<boolean>`NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.id = request_logs.key_id AND ${LIFETIME('k')})
  AND NOT EXISTS (SELECT 1 FROM limit_policies p WHERE ${LIFETIME('p')} AND (
    (p.scope_type = 'user' AND p.scope_id = request_logs.user_id) OR
    (p.scope_type = 'team' AND p.scope_id = request_logs.team_id) OR
    (p.scope_type = 'org' AND p.scope_id = request_logs.org_id)))`;

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
 * would stall the usage writer (and every other write) until it finished.
 */
export class LogRetention {
  readonly #batchSize: number;

  constructor(
    private readonly db: Kysely<Database>,
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
      const batch = await this.deleteBatch(cutoff);
      deleted += batch;
      if (batch < this.#batchSize) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { deleted, cutoff };
  }

  private async deleteBatch(cutoff: number): Promise<number> {
    // DELETE … LIMIT is not portable (PostgreSQL has none, SQLite only when compiled with it); a bounded
    // subquery over the `at` index is, on both engines.
    const result = await this.db
      .deleteFrom('request_logs')
      .where('id', 'in', (qb) =>
        qb
          .selectFrom('request_logs')
          .select('id')
          .where('at', '<', cutoff)
          .where(KEEPS_NO_LIFETIME_LIMIT)
          .limit(this.#batchSize),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
