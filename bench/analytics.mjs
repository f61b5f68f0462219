#!/usr/bin/env node
// Analytics benchmark (issue #20): N request-log rows (default 10 million) over 90 days, rolled up by the
// upgrade backfill's SQL (the same rollups the usage writer upserts), then typical GET /api/analytics queries
// timed through AnalyticsService (what the route calls), median of several runs.
// By default the rows are generated in SQL and rolled up straight from the generator, a day at a time,
// without storing them in request_logs (queries read only rollups; see bench/README.md). --with-log stores
// them in request_logs first and runs the backfill over the table (slower: ~10x the seeding time).
// Runs the compiled code in dist/ (`npx tsc -p tsconfig.build.json` first).
//   node bench/analytics.mjs [--rows N] [--pg URL] [--repeats R] [--with-log] [--keep] [--reuse NAME]
// --pg: PostgreSQL (a temporary database is created in the server URL given and dropped afterwards);
// default SQLite in a temporary directory. --keep keeps the seeded database (SQLite: its directory; PostgreSQL:
// the database) and prints its name; --reuse NAME times the queries again over such a database, without seeding.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const ROWS = Number(option('rows', 10_000_000));
const REPEATS = Number(option('repeats', 5));
const PG = option('pg', undefined);
const root = fileURLToPath(new URL('..', import.meta.url));
const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { openDatabase } = await load('infra/db/client.js');
const { migrateToLatest } = await load('infra/db/migrate.js');
const { backfillRollups, narrowFromWide, rollupFromLog, rollupFromRollup } = await load(
  'modules/analytics/backfill.js',
);
const WITH_LOG = args.includes('--with-log');
const { AnalyticsRepository } = await load('modules/analytics/repository.js');
const { AnalyticsService } = await load('modules/analytics/service.js');
const { MINUTE_RETENTION_DAYS, HOUR_RETENTION_DAYS } = await load('modules/analytics/retention.js');
const { sql } = await import('kysely');

const DAY = 86_400_000;
const SPAN = 90 * DAY;
const NOW = Math.floor(Date.UTC(2026, 11, 1, 12, 0, 0) / 60_000) * 60_000;
const START = NOW - SPAN;
const CHUNK = 500_000;
const ORGS = 5;
const KEYS = 200;
const USERS = 50;
const TEAMS = 10;
const MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'claude-sonnet',
  'claude-haiku',
  'gemini-pro',
  'deepseek-chat',
  'llama-70b',
  'qwen-72b',
];

let dataDir;
let database;
let admin;
let pgName;
const REUSE = option('reuse', undefined);
const KEEP = args.includes('--keep') || REUSE !== undefined;
if (PG) {
  const pg = (await import('pg')).default;
  pgName = REUSE ?? `aihub_bench_${process.pid}`;
  admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  if (!REUSE) await admin.query(`create database ${pgName}`);
  const url = new URL(PG);
  url.pathname = `/${pgName}`;
  dataDir = mkdtempSync(join(tmpdir(), 'aihub-analytics-'));
  database = openDatabase({ dataDir, url: url.toString() });
} else {
  dataDir = REUSE ?? mkdtempSync(join(tmpdir(), 'aihub-analytics-'));
  database = openDatabase({ dataDir });
}
if (KEEP) console.log(`database kept: ${PG ? pgName : dataDir} (--reuse it)`);
const db = database.db;
const engine = PG ? 'postgres' : 'sqlite';
await migrateToLatest(db);

/**
 * The rows i in [lo, hi), generated in SQL (no round trip per row). A key belongs to one user, team and
 * organization and uses two models; a model goes to one of two channels; 97 % succeed, 2 % are 429, 1 % 502;
 * latencies spread over 20 ms – 30 s, half the requests stream (with a TTFT).
 */
function seedSelect(lo, hi) {
  const key = `(i * 7919) % ${KEYS}`;
  const model = `((${key}) + (i / 13) % 2) % ${MODELS.length}`;
  const modelName = `case ${MODELS.map((m, n) => `when ${model} = ${n} then '${m}'`).join(' ')} end`;
  const status = 'case when i % 100 < 97 then 200 when i % 100 < 99 then 429 else 502 end';
  const latency = '20 + ((i * 104729) % 1000) * ((i * 7) % 30)';
  const columns = `id, at, user_id, key_id, org_id, team_id, channel_id, model, upstream_model, endpoint, stream, status,
    error_code, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, estimated, cost_micros, price_micros,
    latency_ms, ttft_ms, client_ip, attempts, request_body, response_body`;
  const id = PG ? `'req_' || lpad(i::text, 12, '0')` : `printf('req_%012d', i)`;
  const names = columns.split(',').map((c) => c.trim());
  const values = [
    id,
    `${START} + (i * ${SPAN}) / ${ROWS}`,
    `'usr_' || ((${key}) % ${USERS})`,
    `'key_' || (${key})`,
    `'org_' || ((${key}) % ${ORGS})`,
    `'team_' || ((${key}) % ${TEAMS})`,
    `'chn_' || ((${model}) * 2 + i % 2)`,
    modelName,
    'null',
    "'chat'",
    'i % 2',
    status,
    "case when i % 100 < 97 then null else 'upstream_error' end",
    '(i * 31) % 2000',
    '(i * 17) % 800',
    '0',
    '0',
    '0',
    '(i * 13) % 9000',
    '(i * 13) % 9000 + 500',
    latency,
    `case when i % 2 = 1 then (${latency}) / 5 else null end`,
    'null',
    'null',
    'null',
    'null',
    // 1 % of the requests are answered from the response cache, 4 % asked it in vain.
    "case when i % 100 = 42 then 'hit' when i % 100 < 4 then 'miss' else null end",
  ];
  const select = `select ${values.map((v, n) => `${v} as ${names[n] ?? 'cache'}`).join(', ')}`;
  if (PG) return `${select} from generate_series(${lo}::bigint, ${hi - 1}::bigint) as s(i)`;
  return `with recursive seq(i) as (select ${lo} union all select i + 1 from seq where i < ${hi - 1}) ${select} from seq`;
}
const LOG_COLUMNS =
  'id, at, user_id, key_id, org_id, team_id, channel_id, model, upstream_model, endpoint, stream, status, error_code, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, estimated, cost_micros, price_micros, latency_ms, ttft_ms, client_ip, attempts, request_body, response_body, cache';
/** The first row index whose `at` is at or after `at` (rows are evenly spread over the span, in order). */
const firstRowAt = (at) => {
  const offset = BigInt(at - START) * BigInt(ROWS);
  const span = BigInt(SPAN);
  return Math.min(ROWS, Math.max(0, Number((offset + span - 1n) / span)));
};

const time = async (label, fn) => {
  const started = performance.now();
  const value = await fn();
  const ms = performance.now() - started;
  console.log(`${label}: ${(ms / 1000).toFixed(1)} s`);
  return { value, ms };
};

console.log(
  `# ${engine}, ${ROWS.toLocaleString('en')} request-log rows over 90 days${WITH_LOG ? ' (stored in request_logs)' : ' (rolled up as generated)'}`,
);
const seed = await time(WITH_LOG ? 'seed request_logs' : 'seed: nothing stored in request_logs', async () => {
  if (!WITH_LOG || REUSE) return;
  for (let lo = 0; lo < ROWS; lo += CHUNK) {
    const hi = Math.min(ROWS, lo + CHUNK);
    // SQLite's compiled-in recursion has no depth limit for this form; one chunk per transaction.
    await sql.raw(`insert into request_logs (${LOG_COLUMNS}) ${seedSelect(lo, hi)}`).execute(db);
    process.stdout.write(`  ${hi.toLocaleString('en')}\r`);
  }
});
const minuteCutoff = Math.floor((NOW - MINUTE_RETENTION_DAYS * DAY) / 60_000) * 60_000;
const backfill = await time(
  'build rollups (hours from the rows, days from hours, minutes of the last 3 days, narrow from wide)',
  async () => {
    if (REUSE) return;
    if (WITH_LOG) return backfillRollups(db, NOW, MINUTE_RETENTION_DAYS);
    // The backfill's SQL over generated rows, a day at a time: whole hours per chunk, so no hour group is
    // split between two inserts (which would collide on the key).
    for (let day = START; day < NOW; day += DAY) {
      const lo = firstRowAt(day);
      const hi = firstRowAt(Math.min(NOW, day + DAY));
      if (hi > lo) await rollupFromLog(db, 'hour', undefined, `(${seedSelect(lo, hi)}) as generated`);
      process.stdout.write(`  ${hi.toLocaleString('en')}\r`);
    }
    await rollupFromRollup(db, 'day', 'hour');
    await rollupFromLog(db, 'minute', undefined, `(${seedSelect(firstRowAt(minuteCutoff), ROWS)}) as generated`);
    await narrowFromWide(db);
  },
);
if (!REUSE) await sql.raw('analyze').execute(db);

const counts = {};
for (const table of [
  'request_logs',
  'analytics_minute',
  'analytics_hour',
  'analytics_day',
  'analytics_narrow_minute',
  'analytics_narrow_hour',
  'analytics_narrow_day',
])
  counts[table] = Number((await sql.raw(`select count(*) as n from ${table}`).execute(db)).rows[0].n);
console.log(counts);

const analytics = new AnalyticsService({
  repo: new AnalyticsRepository(db),
  clock: { now: () => NOW },
  newId: (p) => `${p}_bench`,
  retention: { minuteDays: MINUTE_RETENTION_DAYS, hourDays: HOUR_RETENTION_DAYS },
});
const org = { orgId: 'org_1', instanceWide: false };
const developer = { orgId: 'org_1', instanceWide: false, within: { userId: 'usr_1', teamIds: [] } };
const teamAdmin = { orgId: 'org_1', instanceWide: false, within: { userId: 'usr_1', teamIds: ['team_1', 'team_6'] } };
const ALL = ['requests', 'errors', 'tokens', 'cost', 'latency_p50', 'latency_p95', 'ttft_p50'];
const base = { metrics: ALL, top: 10, sort: 'requests', filters: {} };
const H = 3_600_000;
const last = (days, groupBy, interval, extra = {}) => ({
  ...base,
  from: NOW - days * DAY,
  to: NOW,
  groupBy,
  interval,
  ...extra,
});
const QUERIES = [
  ['last 6 h by model, per minute', org, { ...base, from: NOW - 6 * H, to: NOW, groupBy: 'model' }],
  ['last 6 h by key, per minute', org, { ...base, from: NOW - 6 * H, to: NOW, groupBy: 'key' }],
  ['last 24 h by model, per hour', org, last(1, 'model', 'hour')],
  ['last 7 days by channel, per hour', org, last(7, 'channel', 'hour')],
  ...['model', 'channel', 'team', 'organization', 'status', 'key', 'user'].flatMap((groupBy) => [
    [`last 30 days by ${groupBy}, per day`, org, last(30, groupBy, 'day')],
    [`last 30 days by ${groupBy}, per hour`, org, last(30, groupBy, 'hour')],
  ]),
  ['last 30 days, top 5 models by cost, per day', org, last(30, 'model', 'day', { top: 5, sort: 'cost' })],
  ['last 90 days by model, per day', org, last(90, 'model', 'day')],
  [
    'last 30 days, errors by key, sorted by cost, per day',
    org,
    last(30, 'key', 'day', { sort: 'cost', filters: { status: 'error' } }),
  ],
  ['last 30 days, one key by model, per day', org, last(30, 'model', 'day', { filters: { keyId: 'key_1' } })],
  ['developer: own keys, last 30 days by key, per day', developer, last(30, 'key', 'day')],
  ['team admin: teams, last 7 days by team, per hour', teamAdmin, last(7, 'team', 'hour')],
];

const { planTable } = await load('modules/analytics/plan.js');
const { GROUP_BY } = await load('modules/analytics/service.js');
/** The rollup table a query reads (as AnalyticsService plans it), for the table of results. */
const tableOf = (scope, params) => {
  const grain = analytics.plan(params).grain;
  const f = params.filters;
  return planTable(grain, {
    groupBy: params.groupBy ? GROUP_BY[params.groupBy] : null,
    filtered: [...(f.keyId ? ['key_id'] : []), ...(f.userId ? ['user_id'] : [])],
    scopedToUsers: scope.within !== undefined,
  }).replace('analytics_', '');
};
const results = [];
// --only TEXT: the queries whose label contains TEXT.
const ONLY = option('only', undefined);
for (const [label, scope, params] of QUERIES.filter(([label]) => ONLY === undefined || label.includes(ONLY))) {
  await analytics.query(scope, params); // warm the cache (pages of the table)
  const times = [];
  let answer;
  for (let r = 0; r < REPEATS; r++) {
    const started = performance.now();
    answer = await analytics.query(scope, params);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  results.push({
    label,
    table: tableOf(scope, params),
    median,
    max: times[times.length - 1],
    grain: answer.grain,
    groups: answer.groups.length,
    points: answer.series.length,
  });
  console.log(
    `${label}: median ${median.toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms (${answer.grain}, ${answer.groups.length} groups, ${answer.series.length} points)`,
  );
}

// For comparison (with --with-log): the same over the raw log, without percentiles (what rollups avoid).
const rawQuery = (label, where, group) =>
  time(label, () =>
    sql
      .raw(
        `select ${group}, count(*), sum(prompt_tokens + completion_tokens), sum(cost_micros) from request_logs where org_id = 'org_1' and ${where} group by ${group}`,
      )
      .execute(db),
  );
const raw = WITH_LOG
  ? await rawQuery(
      '24 h by model over raw request_logs (no percentiles)',
      `at >= ${NOW - DAY} and at < ${NOW}`,
      'model',
    )
  : null;
const raw30 = WITH_LOG
  ? await rawQuery(
      '30 days by user over raw request_logs (no percentiles)',
      `at >= ${NOW - 30 * DAY} and at < ${NOW}`,
      'user_id',
    )
  : null;

console.log('\n| query | median ms | max ms | grain | table | groups | points |\n|---|---|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.label} | ${r.median.toFixed(1)} | ${r.max.toFixed(1)} | ${r.grain} | ${r.table} | ${r.groups} | ${r.points} |`,
  );
console.log(
  `\nseed ${(seed.ms / 1000).toFixed(0)} s, rollups ${(backfill.ms / 1000).toFixed(0)} s${raw ? `; raw-log 24 h query ${raw.ms.toFixed(0)} ms, raw 30 days ${raw30.ms.toFixed(0)} ms` : ''}; rows ${JSON.stringify(counts)}`,
);
const { execSync } = await import('node:child_process');
console.log(`uptime: ${execSync('uptime').toString().trim()}`);

await db.destroy();
if (admin) {
  if (!KEEP) await admin.query(`drop database ${pgName}`);
  await admin.end();
}
if (!KEEP) rmSync(dataDir, { recursive: true, force: true });
