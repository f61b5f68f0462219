import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { AnalyticsViewsTable, Database } from '../../infra/db/schema.js';
import { LATENCY_COLUMNS, TTFT_COLUMNS } from './histogram.js';
import { type Dimension, GRAINS, ROLLUP_TABLES, type RollupTable, type Sum, type WideTable } from './rollup.js';

/** Which rollup rows a query reads: always one organization's (and no one's, for platform admins). */
export interface RollupScope {
  orgId: string;
  /** Also the rows of no organization (master-key requests). */
  instanceWide: boolean;
  /** Only these rows: the caller's own requests and those billed to these teams (undefined: all of the org). */
  within?: { userId: string | null; teamIds: string[] } | undefined;
}

export interface RollupFilter {
  table: RollupTable;
  /** Buckets in [from, to). */
  from: number;
  to: number;
  /** Exact dimension values. */
  equals: Partial<Record<Dimension, string>>;
  /** One of these keys (a key list's spend column). */
  keyIds?: string[] | undefined;
  /** 'success' (2xx) or 'error' (anything else). */
  outcome?: 'success' | 'error' | undefined;
}

/** Summed counters of one group (and bucket), histograms included when asked for. */
export interface RollupTotals {
  group: string;
  bucket: number;
  sums: Record<Sum, number>;
  latency: number[] | null;
  ttft: number[] | null;
}

const SUM_COLUMNS: readonly Sum[] = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_micros',
  'price_micros',
  'latency_ms_sum',
  'cache_hits',
  'cache_misses',
];

type RollupRow = Record<string, unknown>;

/** Reads of the rollup tables and the saved views. Every read takes the caller's scope. */
export class AnalyticsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Sums per group (all of the range), largest `orderBy` first, at most `limit` groups; or, with `interval`,
   * per group and interval bucket for the given groups.
   */
  async totals(
    scope: RollupScope,
    filter: RollupFilter,
    options: {
      groupBy: Dimension | null;
      histograms: { latency: boolean; ttft: boolean };
      /** Bucket width of the series (ms); undefined sums the whole range. */
      interval?: number | undefined;
      /** Only these groups. */
      groups?: string[] | undefined;
      /** A counter, or 'tokens' (prompt + completion). */
      orderBy?: Sum | 'tokens' | undefined;
      limit?: number | undefined;
    },
  ): Promise<RollupTotals[]> {
    // Typed as a wide table: a narrow one has the same columns but key and user, which the planner never
    // asks of it (planTable).
    const table = filter.table as WideTable;
    const groupExpr = options.groupBy ? sql.ref(`${table}.${options.groupBy}`) : sql.lit('');
    // The table's own bucket width: the bucket itself, which the primary key orders (no sort to group).
    const native = options.interval === GRAINS[ROLLUP_TABLES.find((t) => t.table === table)?.grain ?? 'day'].ms;
    const bucketExpr =
      options.interval === undefined
        ? sql.lit(0)
        : native
          ? sql.ref(`${table}.bucket`)
          : sql`(${sql.ref(`${table}.bucket`)} / ${sql.lit(options.interval)}) * ${sql.lit(options.interval)}`;
    const selections = [
      sql`${groupExpr}`.as('grp'),
      sql`${bucketExpr}`.as('bkt'),
      ...SUM_COLUMNS.map((c) => sql`sum(${sql.ref(`${table}.${c}`)})`.as(c)),
      ...(options.histograms.latency ? LATENCY_COLUMNS : []).map((c) => sql`sum(${sql.ref(`${table}.${c}`)})`.as(c)),
      ...(options.histograms.ttft ? TTFT_COLUMNS : []).map((c) => sql`sum(${sql.ref(`${table}.${c}`)})`.as(c)),
    ];
    let query = this.db
      .selectFrom(table)
      .select(selections)
      .where((eb) => scoped(eb as ExpressionBuilder<Database, WideTable>, scope))
      .where('bucket', '>=', filter.from)
      .where('bucket', '<', filter.to);
    for (const [dimension, value] of Object.entries(filter.equals) as Array<[Dimension, string]>)
      query = query.where(dimension, '=', value);
    if (filter.keyIds) query = query.where('key_id', 'in', filter.keyIds.length > 0 ? filter.keyIds : ['']);
    if (filter.outcome === 'success') query = query.where('status_class', '=', '2xx');
    else if (filter.outcome === 'error') query = query.where('status_class', '!=', '2xx');
    if (options.groupBy && options.groups) {
      if (options.groups.length === 0) return [];
      query = query.where(options.groupBy, 'in', options.groups);
    }
    // Literals are selected but never grouped or ordered by (PostgreSQL reads a number there as a position).
    const grouping = [
      ...(options.groupBy ? [sql`${groupExpr}`] : []),
      ...(options.interval !== undefined ? [sql`${bucketExpr}`] : []),
    ];
    if (grouping.length > 0) query = query.groupBy(grouping);
    if (options.orderBy) {
      const order =
        options.orderBy === 'tokens'
          ? sql`sum(${sql.ref(`${table}.prompt_tokens`)}) + sum(${sql.ref(`${table}.completion_tokens`)})`
          : sql`sum(${sql.ref(`${table}.${options.orderBy}`)})`;
      query = query.orderBy(order, 'desc');
      if (options.groupBy) query = query.orderBy(sql`${groupExpr}`);
    } else if (options.interval !== undefined) query = query.orderBy(sql`${bucketExpr}`);
    if (options.limit !== undefined) query = query.limit(options.limit);
    const rows = (await query.execute()) as RollupRow[];
    return rows.map((row) => ({
      group: String(row.grp ?? ''),
      bucket: Number(row.bkt ?? 0),
      sums: Object.fromEntries(SUM_COLUMNS.map((c) => [c, Number(row[c] ?? 0)])) as Record<Sum, number>,
      latency: options.histograms.latency ? LATENCY_COLUMNS.map((c) => Number(row[c] ?? 0)) : null,
      ttft: options.histograms.ttft ? TTFT_COLUMNS.map((c) => Number(row[c] ?? 0)) : null,
    }));
  }

  /** Display names of ids of one dimension, within the organization (keys, users, teams) or the platform (channels). */
  async labels(orgId: string, dimension: Dimension, ids: string[]): Promise<Map<string, string>> {
    const wanted = ids.filter((id) => id !== '');
    const labels = new Map<string, string>();
    if (wanted.length === 0) return labels;
    let rows: Array<{ id: string; label: string }> = [];
    if (dimension === 'key_id')
      rows = await this.db
        .selectFrom('api_keys')
        .select(['id', 'name as label'])
        .where('org_id', '=', orgId)
        .where('id', 'in', wanted)
        .execute();
    else if (dimension === 'user_id')
      rows = await this.db.selectFrom('users').select(['id', 'email as label']).where('id', 'in', wanted).execute();
    else if (dimension === 'team_id')
      rows = await this.db
        .selectFrom('teams')
        .select(['id', 'name as label'])
        .where('org_id', '=', orgId)
        .where('id', 'in', wanted)
        .execute();
    else if (dimension === 'channel_id')
      rows = await this.db.selectFrom('channels').select(['id', 'name as label']).where('id', 'in', wanted).execute();
    else if (dimension === 'org_id')
      rows = await this.db
        .selectFrom('organizations')
        .select(['id', 'name as label'])
        .where('id', 'in', wanted)
        .execute();
    for (const row of rows) labels.set(row.id, row.label);
    return labels;
  }

  listViews(orgId: string, userId: string): Promise<AnalyticsViewsTable[]> {
    return this.db
      .selectFrom('analytics_views')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .orderBy('name')
      .execute();
  }

  async insertView(row: AnalyticsViewsTable): Promise<void> {
    await this.db.insertInto('analytics_views').values(row).execute();
  }

  async deleteView(orgId: string, userId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('analytics_views')
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function scoped(eb: ExpressionBuilder<Database, WideTable>, scope: RollupScope) {
  const org = scope.instanceWide
    ? eb.or([eb('org_id', '=', scope.orgId), eb('org_id', '=', '')])
    : eb('org_id', '=', scope.orgId);
  const within = scope.within;
  if (!within) return org;
  const ors = [];
  if (within.userId !== null) ors.push(eb('user_id', '=', within.userId));
  if (within.teamIds.length > 0) ors.push(eb('team_id', 'in', within.teamIds));
  return eb.and([org, ors.length > 0 ? eb.or(ors) : eb.lit(false)]);
}
