import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from 'kysely';
import type { Database, RequestLogsTable } from '../../infra/db/schema.js';

/** Filters of a request-log query (see LogsService). */
export interface LogFilter {
  /** The organization whose rows are read (always given: a query never crosses organizations). */
  orgId: string;
  /** Also the rows of no organization (master-key requests): platform admins. */
  instanceWide?: boolean | undefined;
  /** Only these rows of the organization: the user's own requests and those billed to these teams. */
  within?: { userId: string | null; teamIds: string[] } | undefined;
  from?: number | undefined;
  to?: number | undefined;
  userId?: string | undefined;
  keyId?: string | undefined;
  model?: string | undefined;
  channelId?: string | undefined;
  /** 'success' (2xx), 'error' (everything else) or an exact HTTP status. */
  status?: string | undefined;
  /** Cursor: rows older than this id. */
  before?: string | undefined;
}

export const CSV_COLUMNS = [
  'id',
  'at',
  'user_id',
  'key_id',
  'org_id',
  'team_id',
  'channel_id',
  'model',
  'upstream_model',
  'endpoint',
  'stream',
  'status',
  'error_code',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'estimated',
  'cost_micros',
  'price_micros',
  'latency_ms',
  'ttft_ms',
  'client_ip',
  'cache',
] as const satisfies ReadonlyArray<keyof RequestLogsTable>;

/** The columns a list reads (the bodies stay in the table until one request is asked for). */
const LIST_COLUMNS = [...CSV_COLUMNS, 'attempts'] as const;

/** A listed row: every column but the bodies, and whether there are any. */
export type ListedRow = Omit<RequestLogsTable, 'request_body' | 'response_body'> & { has_bodies: unknown };
export type CsvRow = Pick<RequestLogsTable, (typeof CSV_COLUMNS)[number]>;

/** Column of the request log that names each kind of scope. */
export const SCOPE_COLUMN = { key: 'key_id', user: 'user_id', team: 'team_id', org: 'org_id' } as const;
export type ScopeColumn = (typeof SCOPE_COLUMN)[keyof typeof SCOPE_COLUMN];
/** One `column = id` condition of a usage query (several are ANDed). */
export interface ScopeFilter {
  column: ScopeColumn;
  id: string;
}
/** The rows a usage series sums: of an organization (and of none, with `instanceWide`), matching every filter. */
export interface UsageScope {
  org?: { id: string; instanceWide: boolean };
  filters: ScopeFilter[];
}

const DAY_MS = 86_400_000;

/**
 * Lifetime budgets and quotas are counted from the request log itself (counters are rebuilt from it), so the
 * rows of a key, user, team or organization with a lifetime limit are kept whatever the retention.
 */
const LIFETIME = (prefix: string) =>
  sql.raw(
    `((${prefix}.budget_period = 'lifetime' AND ${prefix}.budget_micros IS NOT NULL) OR ` +
      `(${prefix}.token_quota_period = 'lifetime' AND ${prefix}.token_quota IS NOT NULL))`,
  );
const KEEPS_NO_LIFETIME_LIMIT = sql<boolean>`NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.id = request_logs.key_id AND ${LIFETIME('k')})
  AND NOT EXISTS (SELECT 1 FROM limit_policies p WHERE ${LIFETIME('p')} AND (
    (p.scope_type = 'user' AND p.scope_id = request_logs.user_id) OR
    (p.scope_type = 'team' AND p.scope_id = request_logs.team_id) OR
    (p.scope_type = 'org' AND p.scope_id = request_logs.org_id)))`;

/** Rows of the organization, and (for platform admins) those of none: requests made with the master key. */
function inOrg(eb: ExpressionBuilder<Database, 'request_logs'>, orgId: string, instanceWide: boolean) {
  return instanceWide ? eb.or([eb('org_id', '=', orgId), eb('org_id', 'is', null)]) : eb('org_id', '=', orgId);
}

/** Sums of one scope's rows since `since`: spend counted from `spendFrom`, tokens from `tokensFrom`. */
export interface ScopeTotals {
  requests: number;
  spend: number;
  tokens: number;
}

/** One UTC day × model of the request log. */
export interface DailyRow {
  /** Days since the epoch (UTC). */
  day: number;
  model: string;
  requests: number;
  errors: number;
  prompt: number;
  completion: number;
  cached: number;
  cost: number;
}

/** Sums over the rows at or after `since`. */
export interface WindowSums {
  requests: number;
  errors: number;
  prompt: number;
  completion: number;
  cost: number;
  users: number;
  cacheHits: number;
  cacheMisses: number;
}

/**
 * Every read of the request log (lists, exports, summaries), its purge, and the user and key counts of
 * the admin overview. Rows are written by the UsageRecorder (the data plane's batch writer).
 */
export class UsageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** A page of rows, newest first, without their bodies. */
  listPage(filter: LogFilter, limit: number): Promise<ListedRow[]> {
    return this.filtered(filter)
      .select(LIST_COLUMNS)
      .select((eb) => eb.or([eb('request_body', 'is not', null), eb('response_body', 'is not', null)]).as('has_bodies'))
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** One row of an organization (or of none, with `instanceWide`) with its bodies. */
  findById(id: string, orgId: string, instanceWide = false): Promise<RequestLogsTable | undefined> {
    return this.db
      .selectFrom('request_logs')
      .selectAll()
      .where('id', '=', id)
      .where((eb) => inOrg(eb, orgId, instanceWide))
      .executeTakeFirst();
  }

  /** A page of CSV columns, newest first. */
  csvPage(filter: LogFilter, limit: number): Promise<CsvRow[]> {
    return this.filtered(filter).select(CSV_COLUMNS).orderBy('id', 'desc').limit(limit).execute();
  }

  /** Delete up to `limit` rows older than `cutoff` that no lifetime limit counts; the number deleted. */
  async deleteOlderThan(cutoff: number, limit: number): Promise<number> {
    // DELETE … LIMIT is not portable (PostgreSQL has none, SQLite only when compiled with it); a bounded
    // subquery over the `at` index is, on both engines.
    const result = await this.db
      .deleteFrom('request_logs')
      .where('id', 'in', (qb) =>
        qb.selectFrom('request_logs').select('id').where('at', '<', cutoff).where(KEEPS_NO_LIFETIME_LIMIT).limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Requests of one scope since `since`, with spend since `spendFrom` and tokens since `tokensFrom`. */
  async scopeTotals(
    column: ScopeColumn,
    id: string,
    since: number,
    spendFrom: number,
    tokensFrom: number,
  ): Promise<ScopeTotals> {
    const row = await this.db
      .selectFrom('request_logs')
      .select((eb) => [
        eb.fn.countAll<number>().as('requests'),
        eb.fn.sum<number>(eb.case().when('at', '>=', spendFrom).then(eb.ref('cost_micros')).else(0).end()).as('spend'),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when('at', '>=', tokensFrom)
              .then(eb('prompt_tokens', '+', eb.ref('completion_tokens')))
              .else(0)
              .end(),
          )
          .as('tokens'),
      ])
      .where(column, '=', id)
      .where('at', '>=', since)
      .executeTakeFirst();
    return {
      requests: Number(row?.requests ?? 0),
      spend: Number(row?.spend ?? 0),
      tokens: Number(row?.tokens ?? 0),
    };
  }

  /**
   * Per UTC day and model in `[from, to)`, of the rows matching every condition of `scope`: the whole days
   * from the daily rollups (analytics, issue #20: kept whatever the log's retention, one row per day, key,
   * model, channel and status class instead of one per request), only the partial days at the edges from the
   * log itself. Errors are 4xx and 5xx, as in the log.
   */
  async daily(from: number, to: number, scope: UsageScope): Promise<DailyRow[]> {
    const firstDay = Math.ceil(from / DAY_MS) * DAY_MS;
    const lastDay = Math.max(firstDay, Math.floor(to / DAY_MS) * DAY_MS);
    const parts = await Promise.all([
      firstDay > from ? this.dailyFromLog(from, Math.min(firstDay, to), scope) : [],
      lastDay > firstDay ? this.dailyFromRollups(firstDay, lastDay, scope) : [],
      to > lastDay ? this.dailyFromLog(lastDay, to, scope) : [],
    ]);
    const merged = new Map<string, DailyRow>();
    for (const row of parts.flat()) {
      const key = `${row.day}\u0000${row.model}`;
      const seen = merged.get(key);
      if (!seen) merged.set(key, { ...row });
      else
        for (const field of ['requests', 'errors', 'prompt', 'completion', 'cached', 'cost'] as const)
          seen[field] += row[field];
    }
    return [...merged.values()].sort((a, b) => a.day - b.day || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  }

  private async dailyFromLog(from: number, to: number, scope: UsageScope): Promise<DailyRow[]> {
    const day = sql<number>`(at / ${sql.lit(DAY_MS)})`;
    let query = this.db
      .selectFrom('request_logs')
      .select((eb) => [
        day.as('day'),
        'model',
        eb.fn.countAll<number>().as('requests'),
        eb.fn.sum<number>(eb.case().when('status', '>=', 400).then(1).else(0).end()).as('errors'),
        eb.fn.sum<number>('prompt_tokens').as('prompt'),
        eb.fn.sum<number>('completion_tokens').as('completion'),
        eb.fn.sum<number>('cached_tokens').as('cached'),
        eb.fn.sum<number>('cost_micros').as('cost'),
      ])
      .where('at', '>=', from)
      .where('at', '<', to);
    const org = scope.org;
    if (org) query = query.where((eb) => inOrg(eb, org.id, org.instanceWide));
    for (const { column, id } of scope.filters) query = query.where(column, '=', id);
    return toDailyRows(await query.groupBy([day, 'model']).execute());
  }

  /** Whole UTC days (`from` and `to` on day boundaries) from `analytics_day`, which holds every dimension. */
  private async dailyFromRollups(from: number, to: number, scope: UsageScope): Promise<DailyRow[]> {
    const day = sql<number>`(bucket / ${sql.lit(DAY_MS)})`;
    let query = this.db
      .selectFrom('analytics_day')
      .select((eb) => [
        day.as('day'),
        'model',
        eb.fn.sum<number>('requests').as('requests'),
        eb.fn
          .sum<number>(eb.case().when('status_class', '>=', '4xx').then(eb.ref('requests')).else(0).end())
          .as('errors'),
        eb.fn.sum<number>('prompt_tokens').as('prompt'),
        eb.fn.sum<number>('completion_tokens').as('completion'),
        eb.fn.sum<number>('cached_tokens').as('cached'),
        eb.fn.sum<number>('cost_micros').as('cost'),
      ])
      .where('bucket', '>=', from)
      .where('bucket', '<', to);
    const org = scope.org;
    // Rollups store "no organization" (master-key requests) as ''.
    if (org)
      query = query.where((eb) =>
        org.instanceWide ? eb.or([eb('org_id', '=', org.id), eb('org_id', '=', '')]) : eb('org_id', '=', org.id),
      );
    for (const { column, id } of scope.filters) query = query.where(column, '=', id);
    return toDailyRows(await query.groupBy([day, 'model']).execute());
  }

  /**
   * Sums for several windows that start on a UTC day (today, the last 7 and 30 days), read from the daily
   * rollups (analytics, issue #20) rather than the log: the narrow table for the sums (one row per day, team,
   * model, channel and status class), the wide one for the distinct users. The usage writer upserts both in
   * the same transaction as the log rows, so they hold exactly the rows the log holds (and more: the rollups
   * outlive the log's retention). Each window counts only its own days; errors are 4xx and 5xx, as the log's.
   */
  async windowSums<W extends string>(
    starts: Record<W, number>,
    org: { id: string; instanceWide: boolean },
  ): Promise<Record<W, WindowSums>> {
    const names = Object.keys(starts) as W[];
    for (const name of names)
      if (starts[name] % DAY_MS !== 0) throw new Error(`window ${name} does not start on a UTC day`);
    const earliest = Math.min(...names.map((name) => starts[name]));
    const inRollupOrg = (eb: ExpressionBuilder<Database, 'analytics_day' | 'analytics_narrow_day'>) =>
      org.instanceWide ? eb.or([eb('org_id', '=', org.id), eb('org_id', '=', '')]) : eb('org_id', '=', org.id);
    const sums = await this.db
      .selectFrom('analytics_narrow_day')
      .select((eb) =>
        names.flatMap((window) => {
          const inWindow = eb('bucket', '>=', starts[window]);
          const sumIn = (value: Expression<number>, condition: Expression<SqlBool> = inWindow) =>
            eb.fn.sum<number>(eb.case().when(condition).then(value).else(0).end());
          return [
            sumIn(eb.ref('requests')).as(`${window}_requests`),
            sumIn(eb.ref('requests'), eb.and([inWindow, eb('status_class', '>=', '4xx')])).as(`${window}_errors`),
            sumIn(eb.ref('prompt_tokens')).as(`${window}_prompt`),
            sumIn(eb.ref('completion_tokens')).as(`${window}_completion`),
            sumIn(eb.ref('cost_micros')).as(`${window}_cost`),
            sumIn(eb.ref('cache_hits')).as(`${window}_cache_hits`),
            sumIn(eb.ref('cache_misses')).as(`${window}_cache_misses`),
          ];
        }),
      )
      .where((eb) => inRollupOrg(eb as never))
      .where('bucket', '>=', earliest)
      .executeTakeFirst();
    const users = await this.db
      .selectFrom('analytics_day')
      .select((eb) =>
        names.map((window) =>
          // COUNT ignores the NULLs: days outside the window, and master-key requests (no user: '').
          eb.fn
            .count<number>(
              eb
                .case()
                .when(eb.and([eb('bucket', '>=', starts[window]), eb('user_id', '!=', '')]))
                .then(eb.ref('user_id'))
                .end(),
            )
            .distinct()
            .as(`${window}_users`),
        ),
      )
      .where((eb) => inRollupOrg(eb as never))
      .where('bucket', '>=', earliest)
      .executeTakeFirst();
    const value = (name: string) =>
      Number(
        ((sums as Record<string, unknown> | undefined)?.[name] ??
          (users as Record<string, unknown> | undefined)?.[name] ??
          0) as number,
      );
    const out = {} as Record<W, WindowSums>;
    for (const window of names) {
      out[window] = {
        requests: value(`${window}_requests`),
        errors: value(`${window}_errors`),
        prompt: value(`${window}_prompt`),
        completion: value(`${window}_completion`),
        cost: value(`${window}_cost`),
        users: value(`${window}_users`),
        cacheHits: value(`${window}_cache_hits`),
        cacheMisses: value(`${window}_cache_misses`),
      };
    }
    return out;
  }

  /** Members of an organization: all of them, and those whose account is active. */
  async userCounts(orgId: string): Promise<{ total: number; active: number }> {
    const users = await this.db
      .selectFrom('users')
      .innerJoin('memberships', 'memberships.user_id', 'users.id')
      .where('memberships.org_id', '=', orgId)
      .where('memberships.team_id', 'is', null)
      .select((eb) => [
        eb.fn.countAll<number>().as('total'),
        eb.fn.sum<number>(eb.case().when('users.status', '=', 'active').then(1).else(0).end()).as('active'),
      ])
      .executeTakeFirst();
    return { total: Number(users?.total ?? 0), active: Number(users?.active ?? 0) };
  }

  /** An organization's API keys: all (revoked included), and those that work at `now` (active, not expired). */
  async keyCounts(now: number, orgId: string): Promise<{ total: number; active: number }> {
    const keys = await this.db
      .selectFrom('api_keys')
      .where('org_id', '=', orgId)
      .select((eb) => {
        const working = eb.and([
          eb('status', '=', 'active'),
          eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]),
        ]);
        return [
          eb.fn.countAll<number>().as('total'),
          eb.fn.sum<number>(eb.case().when(working).then(1).else(0).end()).as('active'),
        ];
      })
      .executeTakeFirst();
    return { total: Number(keys?.total ?? 0), active: Number(keys?.active ?? 0) };
  }

  private filtered(filter: LogFilter): SelectQueryBuilder<Database, 'request_logs', object> {
    let q = this.db.selectFrom('request_logs').where((eb) => inOrg(eb, filter.orgId, filter.instanceWide === true));
    const within = filter.within;
    if (within) {
      q = q.where((eb) => {
        const ors = [];
        if (within.userId !== null) ors.push(eb('user_id', '=', within.userId));
        if (within.teamIds.length > 0) ors.push(eb('team_id', 'in', within.teamIds));
        return ors.length > 0 ? eb.or(ors) : eb.lit(false);
      });
    }
    if (filter.from !== undefined) q = q.where('at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('at', '<', filter.to);
    if (filter.userId) q = q.where('user_id', '=', filter.userId);
    if (filter.keyId) q = q.where('key_id', '=', filter.keyId);
    if (filter.model) q = q.where('model', '=', filter.model);
    if (filter.channelId) q = q.where('channel_id', '=', filter.channelId);
    if (filter.status === 'success') q = q.where('status', '>=', 200).where('status', '<', 300);
    else if (filter.status === 'error') q = q.where((eb) => eb.or([eb('status', '<', 200), eb('status', '>=', 300)]));
    else if (filter.status && /^\d{3}$/.test(filter.status)) q = q.where('status', '=', Number(filter.status));
    if (filter.before) q = q.where('id', '<', filter.before);
    return q;
  }
}

function toDailyRows(
  rows: Array<{
    day: unknown;
    model: string;
    requests: unknown;
    errors: unknown;
    prompt: unknown;
    completion: unknown;
    cached: unknown;
    cost: unknown;
  }>,
): DailyRow[] {
  return rows.map((r) => ({
    day: Number(r.day),
    model: r.model,
    requests: Number(r.requests ?? 0),
    errors: Number(r.errors ?? 0),
    prompt: Number(r.prompt ?? 0),
    completion: Number(r.completion ?? 0),
    cached: Number(r.cached ?? 0),
    cost: Number(r.cost ?? 0),
  }));
}
