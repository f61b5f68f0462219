import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import { BUCKETS, quantile } from './histogram.js';
import { coverRange, planRange, planTable, type RangePart, type RangePlan } from './plan.js';
import type { AnalyticsRepository, RollupFilter, RollupScope, RollupTotals } from './repository.js';
import { type Dimension, GRAINS, type Grain, type Sum } from './rollup.js';

/** What `groupBy` names, and the rollup dimension it reads. */
export const GROUP_BY = {
  model: 'model',
  channel: 'channel_id',
  key: 'key_id',
  user: 'user_id',
  team: 'team_id',
  organization: 'org_id',
  status: 'status_class',
} as const satisfies Record<string, Dimension>;
export type GroupBy = keyof typeof GROUP_BY;

export const METRICS = [
  'requests',
  'errors',
  'error_rate',
  'tokens',
  'prompt_tokens',
  'completion_tokens',
  'cost',
  'price',
  'latency_avg',
  'latency_p50',
  'latency_p95',
  'latency_p99',
  'ttft_p50',
  'ttft_p95',
] as const;
export type Metric = (typeof METRICS)[number];
export const DEFAULT_METRICS: readonly Metric[] = [
  'requests',
  'errors',
  'tokens',
  'cost',
  'latency_p50',
  'latency_p95',
];

/** Orderings of the top-N groups. */
export const SORTS = { requests: 'requests', errors: 'errors', cost: 'cost_micros', price: 'price_micros' } as const;
export type SortBy = keyof typeof SORTS | 'tokens';

export interface AnalyticsParams {
  from: number;
  to: number;
  interval?: Grain | undefined;
  groupBy?: GroupBy | undefined;
  metrics: readonly Metric[];
  top: number;
  sort: SortBy;
  /** Sum histograms for every group and bucket of the series too (percentiles per group over time; slower). */
  seriesPercentiles?: boolean | undefined;
  filters: {
    model?: string | undefined;
    channelId?: string | undefined;
    keyId?: string | undefined;
    userId?: string | undefined;
    teamId?: string | undefined;
    /** 'success', 'error' or a status class ('4xx'). */
    status?: string | undefined;
  };
}

/** The numbers of one group (or bucket); percentiles null when not asked for or without requests. */
export interface Metrics {
  requests: number;
  errors: number;
  errorRate: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  tokens: number;
  costMicros: number;
  priceMicros: number;
  latencyAvgMs: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
}

export interface AnalyticsResult {
  grain: Grain;
  interval: Grain;
  from: number;
  to: number;
  groupBy: GroupBy | null;
  metrics: Metric[];
  totals: Metrics;
  groups: Array<{ key: string; label: string | null; metrics: Metrics }>;
  /** Per group and bucket: counters; percentiles only with `seriesPercentiles`. */
  series: Array<{ at: number; key: string; metrics: Metrics }>;
  /** Per bucket, every row of the filter (not only the top-N groups), percentiles included. */
  timeline: Array<{ at: number; metrics: Metrics }>;
}

export interface SavedView {
  id: string;
  name: string;
  query: Record<string, string>;
  createdAt: number;
}

export interface AnalyticsServiceOptions {
  repo: AnalyticsRepository;
  clock: Clock;
  newId: (prefix: string) => string;
  retention: { minuteDays: number; hourDays: number };
  /** Write the rows the usage writer still holds, so an answer includes every request made before it. */
  flush?: () => Promise<void>;
}

/** Analytics over the rollup tables: totals, top-N groups and their series; saved views. */
export class AnalyticsService {
  constructor(private readonly options: AnalyticsServiceOptions) {}

  /** Which table and aligned range a query reads (exposed for the docs' examples and tests). */
  plan(params: Pick<AnalyticsParams, 'from' | 'to' | 'interval'>): RangePlan {
    return planRange(params, this.options.clock.now(), this.options.retention);
  }

  /**
   * Totals, the top-N groups, each group's series and the timeline (every row of the filter per bucket). Each
   * part reads the narrowest table that holds what it needs, and histograms are summed only where percentiles
   * are shown: the groups and the timeline (and the totals, which are the timeline's sum); a group's series
   * carries counters only unless `seriesPercentiles` — thousands of group-buckets × 80 histogram columns are
   * what made a 30-day hourly chart slow.
   */
  async query(scope: RollupScope, params: AnalyticsParams): Promise<AnalyticsResult> {
    const plan = this.plan(params);
    await this.options.flush?.();
    const groupBy = params.groupBy ?? null;
    const dimension = groupBy ? GROUP_BY[groupBy] : null;
    const filter = rollupFilter(plan, params, scope, dimension);
    const histograms = {
      latency: params.metrics.some((m) => m.startsWith('latency_p')),
      ttft: params.metrics.some((m) => m.startsWith('ttft_')),
    };
    const counters = { latency: false, ttft: false };
    const interval = GRAINS[plan.interval].ms;
    const { repo } = this.options;
    // The timeline: every row of the filter, whatever the groups; it needs no group dimension, so it reads
    // the narrow table unless a filter or the caller's scope needs keys or users.
    const timeline = await repo.totals(scope, rollupFilter(plan, params, scope, null), {
      groupBy: null,
      histograms,
      interval,
    });
    let groups: RollupTotals[] = [];
    let series = timeline;
    if (dimension) {
      // Ranked on counters first; the histograms are then summed for the chosen groups only. Both are sums
      // over the whole range: read from the coarsest tables that cover it (coverRange).
      groups = await this.rangeTotals(scope, plan, params, dimension, {
        histograms: counters,
        orderBy: params.sort === 'tokens' ? 'tokens' : SORTS[params.sort],
        limit: params.top,
      });
      // Fewer groups than the top-N: they are all of them (no list of groups needed).
      const chosen = groups.length < params.top ? undefined : groups.map((g) => g.group);
      if ((histograms.latency || histograms.ttft) && groups.length > 0) {
        const withHistograms = await this.rangeTotals(scope, plan, params, dimension, { histograms, groups: chosen });
        const byGroup = new Map(withHistograms.map((g) => [g.group, g]));
        groups = groups.map((g) => ({
          ...g,
          latency: byGroup.get(g.group)?.latency ?? null,
          ttft: byGroup.get(g.group)?.ttft ?? null,
        }));
      }
      series =
        groups.length === 0
          ? []
          : await repo.totals(scope, filter, {
              groupBy: dimension,
              histograms: params.seriesPercentiles ? histograms : counters,
              interval,
              groups: chosen,
            });
    }
    const labels = dimension
      ? await repo.labels(
          scope.orgId,
          dimension,
          groups.map((g) => g.group),
        )
      : new Map<string, string>();
    return {
      grain: plan.grain,
      interval: plan.interval,
      from: plan.from,
      to: plan.to,
      groupBy,
      metrics: [...params.metrics],
      totals: toMetrics(sumTotals(timeline, histograms), params.metrics),
      groups: groups.map((g) => ({
        key: g.group,
        label: labels.get(g.group) ?? null,
        metrics: toMetrics(g, params.metrics),
      })),
      series: series.map((s) => ({ at: s.bucket, key: s.group, metrics: toMetrics(s, params.metrics) })),
      timeline: timeline.map((s) => ({ at: s.bucket, metrics: toMetrics(s, params.metrics) })),
    };
  }

  /**
   * Sums per group over the whole range, from the parts coverRange gives (one query each); ranked by
   * `orderBy` (largest first, then by group) and cut to `limit` when given.
   */
  private async rangeTotals(
    scope: RollupScope,
    plan: RangePlan,
    params: AnalyticsParams,
    dimension: Dimension,
    options: {
      histograms: { latency: boolean; ttft: boolean };
      orderBy?: Sum | 'tokens';
      limit?: number;
      groups?: string[] | undefined;
    },
  ): Promise<RollupTotals[]> {
    const parts = coverRange(plan.from, plan.to, plan.grain);
    const read = (part: RangePart, ranked: boolean) =>
      this.options.repo.totals(scope, rollupFilter({ ...plan, ...part }, params, scope, dimension), {
        groupBy: dimension,
        histograms: options.histograms,
        groups: options.groups,
        ...(ranked ? { orderBy: options.orderBy, limit: options.limit } : {}),
      });
    if (parts.length === 1) return read(parts[0] as RangePart, true);
    const byGroup = new Map<string, RollupTotals[]>();
    for (const list of await Promise.all(parts.map((part) => read(part, false))))
      for (const item of list) {
        const items = byGroup.get(item.group);
        if (items) items.push(item);
        else byGroup.set(item.group, [item]);
      }
    const merged = [...byGroup].map(([group, items]) => ({ ...sumTotals(items, options.histograms), group }));
    const { orderBy, limit } = options;
    if (orderBy === undefined) return merged;
    const value = (t: RollupTotals) =>
      orderBy === 'tokens' ? t.sums.prompt_tokens + t.sums.completion_tokens : t.sums[orderBy];
    merged.sort((a, b) => value(b) - value(a) || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
    return limit === undefined ? merged : merged.slice(0, limit);
  }

  async listViews(orgId: string, userId: string): Promise<SavedView[]> {
    return (await this.options.repo.listViews(orgId, userId)).map((row) => ({
      id: row.id,
      name: row.name,
      query: JSON.parse(row.query) as Record<string, string>,
      createdAt: Number(row.created_at),
    }));
  }

  async saveView(orgId: string, userId: string, name: string, query: Record<string, string>): Promise<SavedView> {
    const trimmed = name.trim();
    if (trimmed === '') throw new ApiError('validation_failed', 'name must not be empty');
    const existing = await this.options.repo.listViews(orgId, userId);
    if (existing.length >= 100) throw new ApiError('conflict', 'At most 100 saved views per user');
    const view = { id: this.options.newId('view'), name: trimmed, query, createdAt: this.options.clock.now() };
    await this.options.repo.insertView({
      id: view.id,
      org_id: orgId,
      user_id: userId,
      name: view.name,
      query: JSON.stringify(query),
      created_at: view.createdAt,
    });
    return view;
  }

  async deleteView(orgId: string, userId: string, id: string): Promise<void> {
    if (!(await this.options.repo.deleteView(orgId, userId, id))) throw notFound('Saved view');
  }
}

/** The rows a query part reads, and the narrowest table holding them when grouped by `groupBy`. */
function rollupFilter(
  plan: RangePlan,
  params: AnalyticsParams,
  scope: RollupScope,
  groupBy: Dimension | null,
): RollupFilter {
  const f = params.filters;
  const equals: RollupFilter['equals'] = {};
  if (f.model !== undefined) equals.model = f.model;
  if (f.channelId !== undefined) equals.channel_id = f.channelId;
  // A comma-separated list of keys: one of them (the spend column of a key list).
  const keyIds = f.keyId?.includes(',') ? f.keyId.split(',').slice(0, 100) : undefined;
  if (f.keyId !== undefined && !keyIds) equals.key_id = f.keyId;
  if (f.userId !== undefined) equals.user_id = f.userId;
  if (f.teamId !== undefined) equals.team_id = f.teamId;
  let outcome: RollupFilter['outcome'];
  if (f.status === 'success' || f.status === 'error') outcome = f.status;
  else if (f.status !== undefined) equals.status_class = f.status;
  const table = planTable(plan.grain, {
    groupBy,
    filtered: [...(Object.keys(equals) as Dimension[]), ...(keyIds ? (['key_id'] as const) : [])],
    scopedToUsers: scope.within !== undefined,
  });
  return { table, from: plan.from, to: plan.to, equals, keyIds, outcome };
}

const EMPTY_SUMS: Record<Sum, number> = {
  requests: 0,
  errors: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  cached_tokens: 0,
  reasoning_tokens: 0,
  cost_micros: 0,
  price_micros: 0,
  latency_ms_sum: 0,
  cache_hits: 0,
  cache_misses: 0,
};

/** Rollup totals added up (counters and histogram counts are sums, so this equals summing their rows). */
export function sumTotals(
  list: readonly RollupTotals[],
  histograms: { latency: boolean; ttft: boolean },
): RollupTotals {
  const sums = { ...EMPTY_SUMS };
  const latency = histograms.latency ? new Array<number>(BUCKETS).fill(0) : null;
  const ttft = histograms.ttft ? new Array<number>(BUCKETS).fill(0) : null;
  for (const item of list) {
    for (const key of Object.keys(sums) as Sum[]) sums[key] += item.sums[key];
    item.latency?.forEach((n, i) => {
      if (latency) latency[i] = (latency[i] as number) + n;
    });
    item.ttft?.forEach((n, i) => {
      if (ttft) ttft[i] = (ttft[i] as number) + n;
    });
  }
  return { group: '', bucket: 0, sums, latency, ttft };
}

/** The metrics of summed rollups: counters as they are, percentiles from the merged histograms. */
export function toMetrics(totals: RollupTotals | undefined, metrics: readonly Metric[]): Metrics {
  const s = totals?.sums ?? EMPTY_SUMS;
  const asked = (m: Metric) => metrics.includes(m);
  const latency = totals?.latency ?? null;
  const ttft = totals?.ttft ?? null;
  return {
    requests: s.requests,
    errors: s.errors,
    errorRate: s.requests > 0 ? s.errors / s.requests : 0,
    promptTokens: s.prompt_tokens,
    completionTokens: s.completion_tokens,
    cachedTokens: s.cached_tokens,
    reasoningTokens: s.reasoning_tokens,
    tokens: s.prompt_tokens + s.completion_tokens,
    costMicros: s.cost_micros,
    priceMicros: s.price_micros,
    latencyAvgMs: s.requests > 0 ? Math.round((s.latency_ms_sum / s.requests) * 10) / 10 : null,
    latencyP50Ms: asked('latency_p50') && latency ? quantile(latency, 0.5) : null,
    latencyP95Ms: asked('latency_p95') && latency ? quantile(latency, 0.95) : null,
    latencyP99Ms: asked('latency_p99') && latency ? quantile(latency, 0.99) : null,
    ttftP50Ms: asked('ttft_p50') && ttft ? quantile(ttft, 0.5) : null,
    ttftP95Ms: asked('ttft_p95') && ttft ? quantile(ttft, 0.95) : null,
  };
}

/** The CSV columns of each metric (the value read from Metrics). */
const CSV_METRIC: Record<Metric, keyof Metrics> = {
  requests: 'requests',
  errors: 'errors',
  error_rate: 'errorRate',
  tokens: 'tokens',
  prompt_tokens: 'promptTokens',
  completion_tokens: 'completionTokens',
  cost: 'costMicros',
  price: 'priceMicros',
  latency_avg: 'latencyAvgMs',
  latency_p50: 'latencyP50Ms',
  latency_p95: 'latencyP95Ms',
  latency_p99: 'latencyP99Ms',
  ttft_p50: 'ttftP50Ms',
  ttft_p95: 'ttftP95Ms',
};

/** The series as CSV: one line per bucket and group, the asked-for metrics as columns. */
export function toCsv(result: AnalyticsResult): string {
  const labels = new Map(result.groups.map((g) => [g.key, g.label ?? '']));
  const header = [
    'bucket',
    'group',
    'label',
    ...result.metrics.map((m) => (m === 'cost' || m === 'price' ? `${m}_micros` : m)),
  ];
  const lines = [header.join(',')];
  for (const point of result.series) {
    const values = result.metrics.map((m) => {
      const value = point.metrics[CSV_METRIC[m]];
      return value === null ? '' : String(value);
    });
    lines.push(
      [new Date(point.at).toISOString(), csvField(point.key), csvField(labels.get(point.key) ?? ''), ...values].join(
        ',',
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A CSV field, quoted when needed; a leading =+-@ is defused (spreadsheet formulas). */
function csvField(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
