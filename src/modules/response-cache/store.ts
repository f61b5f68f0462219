/**
 * Where the response cache keeps its entries (docs/response-cache.md): the `response_cache` table of the
 * application database, or Redis when the instance has it (shared by every instance, expiry by Redis).
 * Writes are off the request path: a failed write loses one entry, never an answer.
 */
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { CachedAnswer, ResponseCacheStore } from '../../gateway/index.js';
import type { Database } from '../../infra/db/schema.js';

type OnError = (error: unknown) => void;

interface Meta {
  stream: boolean;
  contentType: string;
  tokens: CachedAnswer['tokens'];
}

function metaOf(answer: CachedAnswer): string {
  const meta: Meta = { stream: answer.stream, contentType: answer.contentType, tokens: answer.tokens };
  return JSON.stringify(meta);
}

function answerOf(body: string, metaText: string): CachedAnswer | undefined {
  try {
    const meta = JSON.parse(metaText) as Meta;
    return { body, stream: meta.stream, contentType: meta.contentType, tokens: meta.tokens };
  } catch {
    return undefined;
  }
}

/** Entries in the application database (SQLite or PostgreSQL); expired rows are deleted by the purge job. */
export class SqlCacheStore implements ResponseCacheStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly onError: OnError = () => undefined,
  ) {}

  async get(key: string): Promise<CachedAnswer | undefined> {
    const row = await this.db
      .selectFrom('response_cache')
      .select(['body', 'meta', 'expires_at'])
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row || Number(row.expires_at) <= this.clock.now()) return undefined;
    return answerOf(row.body, row.meta);
  }

  set(key: string, orgId: string | null, answer: CachedAnswer, ttlMs: number): void {
    const now = this.clock.now();
    const row = {
      key,
      org_id: orgId,
      body: answer.body,
      meta: metaOf(answer),
      size: Buffer.byteLength(answer.body),
      created_at: now,
      expires_at: now + ttlMs,
    };
    this.db
      .insertInto('response_cache')
      .values(row)
      .onConflict((c) =>
        c.column('key').doUpdateSet({
          body: row.body,
          meta: row.meta,
          size: row.size,
          created_at: row.created_at,
          expires_at: row.expires_at,
        }),
      )
      .execute()
      .catch(this.onError);
  }

  /** Delete expired entries; returns how many. */
  async purge(): Promise<number> {
    const result = await this.db
      .deleteFrom('response_cache')
      .where('expires_at', '<=', this.clock.now())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Delete every entry (an admin clears the cache); returns how many. */
  async clear(orgId?: string): Promise<number> {
    let query = this.db.deleteFrom('response_cache');
    if (orgId !== undefined) query = query.where('org_id', '=', orgId);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** Entries in Redis under `<prefix>rc:<key>` (a hash of body and meta), expired by Redis itself. */
export class RedisCacheStore implements ResponseCacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onError: OnError = () => undefined,
  ) {}

  async get(key: string): Promise<CachedAnswer | undefined> {
    const [body, meta] = await this.redis.hmget(`${this.prefix}rc:${key}`, 'body', 'meta');
    if (body === null || meta === null || body === undefined || meta === undefined) return undefined;
    return answerOf(body, meta);
  }

  set(key: string, orgId: string | null, answer: CachedAnswer, ttlMs: number): void {
    const redisKey = `${this.prefix}rc:${key}`;
    this.redis
      .multi()
      .hset(redisKey, { body: answer.body, meta: metaOf(answer), org: orgId ?? '' })
      .pexpire(redisKey, Math.max(1, Math.round(ttlMs)))
      .exec()
      .then((results) => {
        const failed = results?.find(([error]) => error !== null);
        if (failed) this.onError(failed[0]);
      }, this.onError);
  }

  /** Redis expires entries itself. */
  async purge(): Promise<number> {
    return 0;
  }

  /** Delete every entry (of one organization, when given); returns how many. */
  async clear(orgId?: string): Promise<number> {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}rc:*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        if (orgId !== undefined && (await this.redis.hget(key, 'org')) !== orgId) continue;
        deleted += await this.redis.del(key);
      }
    } while (cursor !== '0');
    return deleted;
  }
}
