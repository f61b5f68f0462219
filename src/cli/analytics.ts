import { type Command, Option } from 'commander';
import { ApiError } from '../core/errors.js';
import { DEFAULT_ORG_ID } from '../infra/db/migrations/0001_foundation.js';
import { rebuildRollups } from '../modules/analytics/backfill.js';
import { HOUR_RETENTION_DAYS, MINUTE_RETENTION_DAYS } from '../modules/analytics/retention.js';
import type { Grain } from '../modules/analytics/rollup.js';
import { parseMetrics } from '../modules/analytics/routes.js';
import {
  type AnalyticsResult,
  GROUP_BY,
  type GroupBy,
  type Metric,
  type Metrics,
  SORTS,
  type SortBy,
  toCsv,
} from '../modules/analytics/service.js';
import type { Services } from '../services.js';

type WithRuntime = <T>(fn: (runtime: { services: Services }) => Promise<T>) => Promise<T>;
type Fail = (message: string) => Error;

const DAY_MS = 86_400_000;

/** A date (YYYY-MM-DD, UTC) or an ISO timestamp, as epoch ms. */
function instant(value: string, name: string, fail: Fail): number {
  const at = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(at)) throw fail(`${name} must be a date (2026-12-01) or an ISO time (2026-12-01T08:00:00Z)`);
  return at;
}

/** The metric's column in a table, as the console shows it. */
const COLUMNS: Record<Metric, { title: string; value: (m: Metrics) => string }> = {
  requests: { title: 'requests', value: (m) => String(m.requests) },
  errors: { title: 'errors', value: (m) => String(m.errors) },
  error_rate: { title: 'error %', value: (m) => (m.errorRate * 100).toFixed(1) },
  tokens: { title: 'tokens', value: (m) => String(m.tokens) },
  prompt_tokens: { title: 'prompt', value: (m) => String(m.promptTokens) },
  completion_tokens: { title: 'completion', value: (m) => String(m.completionTokens) },
  cost: { title: 'cost', value: (m) => (m.costMicros / 1e6).toFixed(4) },
  price: { title: 'price', value: (m) => (m.priceMicros / 1e6).toFixed(4) },
  latency_avg: { title: 'avg ms', value: (m) => String(m.latencyAvgMs ?? '—') },
  latency_p50: { title: 'p50 ms', value: (m) => String(m.latencyP50Ms ?? '—') },
  latency_p95: { title: 'p95 ms', value: (m) => String(m.latencyP95Ms ?? '—') },
  latency_p99: { title: 'p99 ms', value: (m) => String(m.latencyP99Ms ?? '—') },
  ttft_p50: { title: 'ttft p50', value: (m) => String(m.ttftP50Ms ?? '—') },
  ttft_p95: { title: 'ttft p95', value: (m) => String(m.ttftP95Ms ?? '—') },
};

/** The groups and the totals as an aligned text table. */
export function analyticsTable(result: AnalyticsResult): string {
  const metrics = result.metrics as Metric[];
  const header = [result.groupBy ?? 'all', ...metrics.map((m) => COLUMNS[m].title)];
  const rows = [
    ...result.groups.map((g) => [
      g.label ? `${g.label} (${g.key})` : g.key || '(none)',
      ...metrics.map((m) => COLUMNS[m].value(g.metrics)),
    ]),
    ['total', ...metrics.map((m) => COLUMNS[m].value(result.totals))],
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [
    `${new Date(result.from).toISOString()} – ${new Date(result.to).toISOString()} (${result.grain} rollups)`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}

/** `aihub analytics query` and `aihub analytics rebuild`. */
export function registerAnalyticsCommands(program: Command, withRuntime: WithRuntime, fail: Fail): void {
  const analytics = program.command('analytics').description('Usage analytics from the rollups');
  analytics
    .command('query')
    .description('Requests, tokens, cost and latency of an organization by group, as GET /api/analytics answers')
    .option('--org <idOrSlug>', 'the organization (default: the Default one, with master-key requests)')
    .option('--days <n>', 'the last N days', '1')
    .option('--from <date>', 'start (2026-12-01 or an ISO time); with --to instead of --days')
    .option('--to <date>', 'end, exclusive (default now)')
    .addOption(new Option('--group-by <dimension>', 'what the groups are').choices(Object.keys(GROUP_BY)))
    .addOption(new Option('--interval <grain>', 'bucket width of the series').choices(['minute', 'hour', 'day']))
    .option('--metrics <list>', 'comma-separated metrics (default requests,errors,tokens,cost,latency_p50,latency_p95)')
    .option('--top <n>', 'groups shown, largest first', '10')
    .addOption(new Option('--sort <by>', 'how groups are ranked').choices([...Object.keys(SORTS), 'tokens']))
    .addOption(
      new Option('--format <format>', 'table: groups and totals; csv: the series; json: the whole answer')
        .choices(['table', 'csv', 'json'])
        .default('table'),
    )
    .action(
      async (opts: {
        org?: string;
        days: string;
        from?: string;
        to?: string;
        groupBy?: GroupBy;
        interval?: Grain;
        metrics?: string;
        top: string;
        sort?: SortBy;
        format: 'table' | 'csv' | 'json';
      }) => {
        const days = Number(opts.days);
        if (!(days > 0 && days <= 400)) throw fail('--days must be a number of days from 1 to 400');
        const top = Number(opts.top);
        if (!Number.isInteger(top) || top < 1 || top > 100) throw fail('--top must be a whole number from 1 to 100');
        await withRuntime(async ({ services }) => {
          const org = opts.org ? await services.organizations.findOrg(opts.org) : { id: DEFAULT_ORG_ID };
          if (!org) throw fail(`No organization ${opts.org}`);
          const to = opts.to ? instant(opts.to, '--to', fail) : services.clock.now();
          const from = opts.from ? instant(opts.from, '--from', fail) : to - days * DAY_MS;
          try {
            const result = await services.analytics.query(
              { orgId: org.id, instanceWide: org.id === DEFAULT_ORG_ID },
              {
                from,
                to,
                interval: opts.interval,
                groupBy: opts.groupBy,
                metrics: parseMetrics(opts.metrics),
                top,
                sort: opts.sort ?? 'requests',
                seriesPercentiles: opts.format !== 'table',
                filters: {},
              },
            );
            if (opts.format === 'json') console.log(JSON.stringify(result, null, 2));
            else if (opts.format === 'csv') process.stdout.write(toCsv(result));
            else console.log(analyticsTable(result));
          } catch (error) {
            if (error instanceof ApiError) throw fail(error.message);
            throw error;
          }
        });
      },
    );
  analytics
    .command('rebuild')
    .description(
      'Rebuild the rollups from the request log (the days it still holds; older days keep their rollups). Safe while servers run',
    )
    .option('--from <date>', 'the first UTC day to rebuild (default: the oldest day in the log)')
    .action(async (opts: { from?: string }) => {
      const from = opts.from === undefined ? undefined : instant(opts.from, '--from', fail);
      await withRuntime(async ({ services }) => {
        await services.recorder.flush();
        const result = await rebuildRollups(services.database.db, {
          now: services.clock.now(),
          minuteDays: MINUTE_RETENTION_DAYS,
          hourDays: HOUR_RETENTION_DAYS,
          from,
        });
        if (result.from === null) console.log('The request log is empty: nothing to rebuild.');
        else
          console.log(
            `Rebuilt the rollups from ${new Date(result.from).toISOString().slice(0, 10)} on, from ${result.rows} request-log rows.`,
          );
      });
    });
}
