/**
 * The response cache's storage and housekeeping (the data plane's part is src/gateway/cache.ts): entries in
 * Redis when the instance has it, else in the application database, whose expired rows an hourly job deletes.
 */
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { ResponseCache, type ResponseCacheSettings } from '../../gateway/index.js';
import type { Database } from '../../infra/db/schema.js';
import type { BackgroundLogTarget } from '../../jobs/log.js';
import type { JobQueue } from '../../jobs/types.js';
import { RedisCacheStore, SqlCacheStore } from './store.js';

export const PURGE_CACHE_JOB = 'cache.purge';
export const PURGE_CACHE_SCHEDULE = 'cache.purge.hourly';

export interface ResponseCacheModule {
  cache: ResponseCache;
  /** Delete every entry (of one organization when given): the admin's "clear cache". */
  clear(orgId?: string): Promise<number>;
}

export function createResponseCache(deps: {
  db: Kysely<Database>;
  clock: Clock;
  redis?: Redis | undefined;
  redisPrefix?: string | undefined;
  settings: () => ResponseCacheSettings;
  log: BackgroundLogTarget;
}): ResponseCacheModule & { store: SqlCacheStore | RedisCacheStore } {
  const onError = (error: unknown) =>
    deps.log.error({ err: error }, 'response cache: an entry could not be stored (the answer was sent)');
  const store = deps.redis
    ? new RedisCacheStore(deps.redis, `${deps.redisPrefix ?? 'aihub'}:`, onError)
    : new SqlCacheStore(deps.db, deps.clock, onError);
  return { cache: new ResponseCache(store, deps.settings), store, clear: (orgId) => store.clear(orgId) };
}

/** Expired database entries are deleted hourly (one run per hour across every instance); Redis expires its own. */
export function registerResponseCacheJobs(
  jobs: JobQueue,
  store: { purge(): Promise<number> },
  log: BackgroundLogTarget,
): void {
  jobs.define<null, { deleted: number }>({
    type: PURGE_CACHE_JOB,
    attempts: 3,
    backoff: { baseMs: 60_000, maxMs: 600_000 },
    handler: async () => {
      const deleted = await store.purge();
      if (deleted > 0) log.info({ deleted }, `purged ${deleted} expired response-cache entries`);
      return { deleted };
    },
  });
  jobs.schedule({ name: PURGE_CACHE_SCHEDULE, type: PURGE_CACHE_JOB, cron: '40 * * * *' });
}
