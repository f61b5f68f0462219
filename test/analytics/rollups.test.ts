/**
 * Analytics answers equal sums over the raw request log (issue #20): random traffic goes through the real
 * usage writer (the SQLite writer thread, or PostgreSQL's transaction), then random group-bys, ranges,
 * intervals and filters of GET /api/analytics are compared with SQL sums over request_logs; percentiles lie in
 * the histogram bucket of the exact value. Also: the backfill builds the same rollups from the log, the prune
 * job keeps day rows, and the log's retention never touches rollups.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ORG_ID } from '../../src/infra/db/migrations/0001_foundation.js';
import type { RequestLogsTable } from '../../src/infra/db/schema.js';
import { backfillRollups, rebuildRollups } from '../../src/modules/analytics/backfill.js';
import { bucketOf } from '../../src/modules/analytics/histogram.js';
import { coverRange, planTable } from '../../src/modules/analytics/plan.js';
import { pruneRollups } from '../../src/modules/analytics/retention.js';
import { client, ManualClock, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

const DAY = 86_400_000;
const ALL_TABLES = [
  'analytics_minute',
  'analytics_hour',
  'analytics_day',
  'analytics_narrow_minute',
  'analytics_narrow_hour',
  'analytics_narrow_day',
] as const;
const HOUR = 3_600_000;

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.ANALYTICS_SEED ?? 20261207);
const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

interface Agg {
  requests: number;
  errors: number;
  tokens: number;
  cost: number;
  price: number;
}

const GROUP_COLUMN = {
  model: 'model',
  channel: 'channel_id',
  key: 'key_id',
  user: 'user_id',
  team: 'team_id',
  organization: 'org_id',
  status: 'status_class',
} as const;

interface Metrics {
  requests: number;
  errors: number;
  tokens: number;
  costMicros: number;
  priceMicros: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
}
interface Answer {
  grain: string;
  interval: string;
  from: number;
  to: number;
  totals: Metrics;
  groups: Array<{ key: string; metrics: Metrics }>;
  series: Array<{ at: number; key: string; metrics: Metrics }>;
  timeline: Array<{ at: number; metrics: Metrics }>;
}

describe.each(ENGINES)('analytics rollups (%s)', (engine) => {
  const clock = new ManualClock(Date.UTC(2026, 5, 20, 15, 30, 0));
  let t: TestApp;
  let admin: SignedIn;
  const call = () => client(t.url);
  const rows: RequestLogsTable[] = [];

  beforeAll(async () => {
    t = await startTestApp({ engine, clock });
    admin = await register(client(t.url), `analytics-admin-${engine}@aihub.test`);
    const random = prng(SEED);
    const now = clock.now();
    const orgs = [DEFAULT_ORG_ID, DEFAULT_ORG_ID, null, 'org_elsewhere'];
    for (let i = 0; i < 1500; i++) {
      // Most traffic in the last 6 hours (minute rollups), the rest over 40 days (hours and days).
      const recent = random() < 0.6;
      const at = now - Math.floor(random() * (recent ? 6 * HOUR : 40 * DAY));
      const status = pick(random, [200, 200, 200, 200, 400, 429, 500, 502]);
      const stream = random() < 0.5;
      const row: RequestLogsTable = {
        id: `req_prop_${engine}_${String(i).padStart(5, '0')}`,
        at,
        user_id: pick(random, ['usr_a', 'usr_b', 'usr_c', null]),
        key_id: pick(random, ['key_1', 'key_2', 'key_3', null]),
        org_id: pick(random, orgs),
        team_id: pick(random, ['team_x', 'team_y', null]),
        channel_id: pick(random, ['chn_1', 'chn_2', null]),
        model: pick(random, ['gpt-4o', 'claude-3', 'llama']),
        upstream_model: null,
        endpoint: 'chat',
        stream: stream ? 1 : 0,
        status,
        error_code: status === 200 ? null : 'upstream_error',
        prompt_tokens: Math.floor(random() * 2000),
        completion_tokens: Math.floor(random() * 800),
        cached_tokens: Math.floor(random() * 100),
        reasoning_tokens: Math.floor(random() * 50),
        estimated: 0,
        cost_micros: Math.floor(random() * 50_000),
        price_micros: Math.floor(random() * 60_000),
        latency_ms: Math.floor(random() ** 3 * 60_000),
        ttft_ms: stream ? Math.floor(random() ** 2 * 5_000) : null,
        client_ip: null,
        attempts: null,
        request_body: null,
        response_body: null,
        cache: pick(random, [null, null, 'hit', 'miss'] as const),
      };
      rows.push(row);
      t.services.recorder.record(row);
      // Several flushes, so rollup rows are upserted (added to) as well as inserted.
      if (i % 250 === 249) await t.services.recorder.flush();
    }
    await t.services.recorder.flush();
  }, 120_000);
  afterAll(async () => t?.close());

  /** The raw sums the API must equal: the admin's rows (Default organization and no organization). */
  async function rawSums(
    from: number,
    to: number,
    groupBy: keyof typeof GROUP_COLUMN | undefined,
    model: string | undefined,
    /** Per bucket of this width instead (keys: the bucket's start). */
    width?: number,
  ): Promise<Map<string, Agg>> {
    const column = groupBy ? GROUP_COLUMN[groupBy] : undefined;
    const group =
      width !== undefined
        ? sql`cast((at / ${sql.lit(width)}) * ${sql.lit(width)} as text)`
        : column === 'status_class'
          ? sql`cast(status / 100 as text) || 'xx'`
          : column
            ? sql`coalesce(${sql.ref(column)}, '')`
            : sql`''`;
    const result = await sql<{
      grp: string;
      requests: unknown;
      errors: unknown;
      tokens: unknown;
      cost: unknown;
      price: unknown;
    }>`
      select ${group} as grp, count(*) as requests,
        sum(case when status < 200 or status >= 300 then 1 else 0 end) as errors,
        sum(prompt_tokens + completion_tokens) as tokens, sum(cost_micros) as cost, sum(price_micros) as price
      from request_logs
      where (org_id = ${DEFAULT_ORG_ID} or org_id is null) and at >= ${from} and at < ${to}
        ${model ? sql`and model = ${model}` : sql``}
      group by 1`.execute(t.database.handle.db);
    return new Map(
      result.rows.map((r) => [
        String(r.grp),
        {
          requests: Number(r.requests),
          errors: Number(r.errors),
          tokens: Number(r.tokens),
          cost: Number(r.cost),
          price: Number(r.price),
        },
      ]),
    );
  }

  const aggOf = (m: Metrics): Agg => ({
    requests: m.requests,
    errors: m.errors,
    tokens: m.tokens,
    cost: m.costMicros,
    price: m.priceMicros,
  });

  it('answers the same sums as the raw log, for random group-bys, ranges, intervals and filters', async () => {
    const random = prng(SEED + 1);
    const now = clock.now();
    const spans = [30 * 60_000, 2 * HOUR, 6 * HOUR, 3 * DAY, 20 * DAY, 45 * DAY];
    const grains = new Set<string>();
    for (let q = 0; q < 24; q++) {
      const span = pick(random, spans);
      const to = now + 60_000 - Math.floor(random() * Math.min(span, 2 * DAY));
      const from = to - span;
      const groupBy = pick(random, [undefined, ...Object.keys(GROUP_COLUMN)] as const) as
        | keyof typeof GROUP_COLUMN
        | undefined;
      const model = random() < 0.25 ? pick(random, ['gpt-4o', 'llama']) : undefined;
      // A small top-N leaves groups out: the totals and the timeline must still count every row.
      const top = random() < 0.3 ? 2 : 100;
      const params = new URLSearchParams({ from: String(from), to: String(to), top: String(top) });
      if (groupBy) params.set('groupBy', groupBy);
      if (model) params.set('model', model);
      if (span > 2 * DAY && random() < 0.5) params.set('interval', 'day');
      const res = await call()<Answer>('GET', `/api/analytics?${params}`, { token: admin.token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const answer = res.body;
      grains.add(answer.grain);
      const raw = await rawSums(answer.from, answer.to, groupBy, model);
      const rawTotal = [...raw.values()].reduce(
        (a, b) => ({
          requests: a.requests + b.requests,
          errors: a.errors + b.errors,
          tokens: a.tokens + b.tokens,
          cost: a.cost + b.cost,
          price: a.price + b.price,
        }),
        { requests: 0, errors: 0, tokens: 0, cost: 0, price: 0 },
      );
      const label = `${params} (${answer.grain})`;
      expect(aggOf(answer.totals), label).toEqual(rawTotal);
      // The timeline: every request of the range, per bucket.
      const width = answer.interval === 'day' ? DAY : answer.interval === 'hour' ? HOUR : 60_000;
      const rawTimeline = await rawSums(answer.from, answer.to, undefined, model, width);
      expect(new Map(answer.timeline.map((p) => [String(p.at), aggOf(p.metrics)])), label).toEqual(rawTimeline);
      if (groupBy && top === 2) {
        const largest = [...raw.values()].map((a) => a.requests).sort((a, b) => b - a);
        expect(
          answer.groups.map((g) => g.metrics.requests),
          label,
        ).toEqual(largest.slice(0, 2));
        for (const g of answer.groups) expect(aggOf(g.metrics), label).toEqual(raw.get(g.key));
        expect(new Set(answer.series.map((p) => p.key)), label).toEqual(new Set(answer.groups.map((g) => g.key)));
      } else if (groupBy) {
        expect(new Map(answer.groups.map((g) => [g.key, aggOf(g.metrics)])), label).toEqual(raw);
        // The series adds up to its groups.
        const bySeries = new Map<string, number>();
        for (const point of answer.series) {
          expect(point.at % (answer.interval === 'day' ? DAY : answer.interval === 'hour' ? HOUR : 60_000)).toBe(0);
          bySeries.set(point.key, (bySeries.get(point.key) ?? 0) + point.metrics.requests);
        }
        expect(bySeries, label).toEqual(new Map([...raw].map(([k, v]) => [k, v.requests])));
      }
    }
    expect([...grains].sort()).toEqual(['day', 'hour', 'minute']);
  });

  it('keeps the narrow rollups equal to the wide ones summed over key and user, cache counts included', async () => {
    const db = t.database.handle.db;
    const columns = sql.raw(
      `bucket, org_id, team_id, model, channel_id, status_class, sum(requests), sum(errors), sum(prompt_tokens),
      sum(completion_tokens), sum(cost_micros), sum(latency_ms_sum), sum(cache_hits), sum(cache_misses), sum(lat_10),
      sum(ttft_05)`,
    );
    for (const grain of ['minute', 'hour', 'day'] as const) {
      const read = async (table: string) =>
        (
          await sql<Record<string, unknown>>`select ${columns} from ${sql.table(table)}
            group by bucket, org_id, team_id, model, channel_id, status_class
            order by bucket, org_id, team_id, model, channel_id, status_class`.execute(db)
        ).rows.map((r) =>
          JSON.stringify(Object.values(r).map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v))),
        );
      const wide = await read(`analytics_${grain}`);
      const narrow = await read(`analytics_narrow_${grain}`);
      expect(narrow.length, grain).toBeGreaterThan(0);
      expect(narrow, grain).toEqual(wide);
      // Fewer rows: key and user are summed away.
      const count = async (table: string) =>
        Number((await sql<{ n: unknown }>`select count(*) as n from ${sql.table(table)}`.execute(db)).rows[0]?.n);
      expect(await count(`analytics_narrow_${grain}`)).toBeLessThan(await count(`analytics_${grain}`));
    }
    // The cache counters equal the log's.
    const raw = await sql<{ hits: unknown; misses: unknown }>`select
      sum(case when cache = 'hit' then 1 else 0 end) as hits, sum(case when cache = 'miss' then 1 else 0 end) as misses
      from request_logs`.execute(db);
    const day = await sql<{ hits: unknown; misses: unknown }>`select sum(cache_hits) as hits,
      sum(cache_misses) as misses from analytics_narrow_day`.execute(db);
    expect(Number(day.rows[0]?.hits)).toBe(Number(raw.rows[0]?.hits));
    expect(Number(day.rows[0]?.misses)).toBe(Number(raw.rows[0]?.misses));
    expect(Number(raw.rows[0]?.hits)).toBeGreaterThan(0);
  });

  it('reads the narrow table unless the query needs keys or users', () => {
    const plain = { groupBy: null, filtered: [], scopedToUsers: false };
    expect(planTable('hour', plain)).toBe('analytics_narrow_hour');
    expect(planTable('day', { ...plain, groupBy: 'model', filtered: ['team_id', 'status_class'] })).toBe(
      'analytics_narrow_day',
    );
    expect(planTable('hour', { ...plain, groupBy: 'key_id' })).toBe('analytics_hour');
    expect(planTable('minute', { ...plain, groupBy: 'user_id' })).toBe('analytics_minute');
    expect(planTable('day', { ...plain, groupBy: 'model', filtered: ['key_id'] })).toBe('analytics_day');
    expect(planTable('day', { ...plain, filtered: ['user_id'] })).toBe('analytics_day');
    // A developer or team admin sees only their own rows: the user dimension is needed.
    expect(planTable('hour', { ...plain, groupBy: 'model', scopedToUsers: true })).toBe('analytics_hour');
  });

  it('covers a range with whole days, then whole hours, then minutes at its edges', () => {
    const day = Date.UTC(2026, 5, 10);
    const at = (d: number, h = 0, m = 0) => day + d * DAY + h * HOUR + m * 60_000;
    expect(coverRange(at(0, 22, 30), at(3, 1, 15), 'minute')).toEqual([
      { grain: 'minute', from: at(0, 22, 30), to: at(0, 23) },
      { grain: 'hour', from: at(0, 23), to: at(1) },
      { grain: 'day', from: at(1), to: at(3) },
      { grain: 'hour', from: at(3), to: at(3, 1) },
      { grain: 'minute', from: at(3, 1), to: at(3, 1, 15) },
    ]);
    expect(coverRange(at(0, 5), at(0, 9), 'hour')).toEqual([{ grain: 'hour', from: at(0, 5), to: at(0, 9) }]);
    expect(coverRange(at(0), at(30), 'hour')).toEqual([{ grain: 'day', from: at(0), to: at(30) }]);
    expect(coverRange(at(2), at(5), 'day')).toEqual([{ grain: 'day', from: at(2), to: at(5) }]);
  });

  it('reads percentiles from the histograms: in the bucket of the exact value', async () => {
    const from = clock.now() - 40 * DAY;
    const to = clock.now() + 60_000;
    const res = await call()<Answer>(
      'GET',
      `/api/analytics?from=${from}&to=${to}&metrics=latency_p50,latency_p95,ttft_p50`,
      { token: admin.token },
    );
    expect(res.status).toBe(200);
    const mine = rows.filter(
      (r) => (r.org_id === DEFAULT_ORG_ID || r.org_id === null) && r.at >= res.body.from && r.at < res.body.to,
    );
    const exact = (values: number[], q: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.ceil(q * sorted.length) - 1] as number;
    };
    const latencies = mine.map((r) => r.latency_ms);
    const ttfts = mine.flatMap((r) => (r.ttft_ms === null ? [] : [r.ttft_ms]));
    for (const [estimate, value] of [
      [res.body.totals.latencyP50Ms, exact(latencies, 0.5)],
      [res.body.totals.latencyP95Ms, exact(latencies, 0.95)],
      [res.body.totals.ttftP50Ms, exact(ttfts, 0.5)],
    ] as const) {
      expect(estimate).not.toBeNull();
      // Interpolated inside the bucket: at most its upper bound, which is the next bucket's lower one.
      expect(Math.abs(bucketOf(estimate as number) - bucketOf(value))).toBeLessThanOrEqual(1);
      expect(estimate as number).toBeGreaterThanOrEqual(value / Math.SQRT2 - 1);
      expect(estimate as number).toBeLessThanOrEqual(value * Math.SQRT2 + 1);
    }
  });

  it('gives percentiles per bucket in the timeline, and per group and bucket only when asked', async () => {
    const from = clock.now() - 3 * DAY;
    const to = clock.now() + 60_000;
    const query = `/api/analytics?from=${from}&to=${to}&interval=day&groupBy=model&metrics=requests,latency_p95`;
    const plain = await call()<Answer>('GET', query, { token: admin.token });
    expect(plain.status).toBe(200);
    expect(plain.body.series.length).toBeGreaterThan(0);
    expect(plain.body.series.every((p) => p.metrics.latencyP95Ms === null)).toBe(true);
    const full = await call()<Answer>('GET', `${query}&seriesPercentiles=true`, { token: admin.token });
    expect(full.status).toBe(200);
    const mine = rows.filter(
      (r) => (r.org_id === DEFAULT_ORG_ID || r.org_id === null) && r.at >= full.body.from && r.at < full.body.to,
    );
    const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(0.95 * values.length) - 1] as number;
    const near = (estimate: number | null, exact: number, label: string) => {
      expect(estimate, label).not.toBeNull();
      expect(Math.abs(bucketOf(estimate as number) - bucketOf(exact)), label).toBeLessThanOrEqual(1);
    };
    const inDay = (at: number) => (r: RequestLogsTable) => r.at >= at && r.at < at + DAY;
    for (const point of full.body.series) {
      const exact = p95(
        mine.filter((r) => inDay(point.at)(r) && (r.model ?? '') === point.key).map((r) => r.latency_ms),
      );
      near(point.metrics.latencyP95Ms, exact, `${point.key} ${point.at}`);
    }
    // The timeline: every model of the day together.
    expect(full.body.timeline.length).toBe(4);
    for (const point of full.body.timeline)
      near(point.metrics.latencyP95Ms, p95(mine.filter(inDay(point.at)).map((r) => r.latency_ms)), `${point.at}`);
  });

  it('builds the same rollups from the stored log (the upgrade backfill)', async () => {
    const db = t.database.handle.db;
    const snapshot = async () =>
      Promise.all(
        ALL_TABLES.map(async (table) =>
          (
            await sql<
              Record<string, unknown>
            >`select * from ${sql.table(table)} where bucket >= ${clock.now() - 2 * DAY}
              order by org_id, bucket, team_id, ${table.includes('narrow') ? sql`` : sql`user_id, key_id,`} model,
              channel_id, status_class`.execute(db)
          ).rows.map((r) =>
            JSON.stringify(Object.values(r).map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v))),
          ),
        ),
      );
    const written = await snapshot();
    for (const table of ALL_TABLES) await db.deleteFrom(table).execute();
    await backfillRollups(db as never, clock.now(), 3);
    expect(await snapshot()).toEqual(written);
    for (const rows of written) expect(rows.length).toBeGreaterThan(0);
  });

  it('rebuilds the rollups from the log (aihub analytics rebuild): equal to what the writer wrote', async () => {
    const db = t.database.handle.db;
    const snapshot = async (table: (typeof ALL_TABLES)[number]) =>
      (
        await sql<Record<string, unknown>>`select * from ${sql.table(table)}
          order by org_id, bucket, team_id, ${table.includes('narrow') ? sql`` : sql`user_id, key_id,`} model,
          channel_id, status_class`.execute(db)
      ).rows.map((r) =>
        JSON.stringify(Object.values(r).map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v))),
      );
    const written = await Promise.all(ALL_TABLES.map(snapshot));
    // Rollups gone wrong (a bad restore, a bug): a day counted twice, a minute lost.
    await db
      .updateTable('analytics_day')
      .set((eb) => ({ requests: eb('requests', '*', 2) }))
      .execute();
    await db.deleteFrom('analytics_narrow_minute').execute();
    // A day older than the log (its rows deleted by retention): only its rollup remains, and must stay.
    const ancient = Math.floor((clock.now() - 200 * DAY) / DAY) * DAY;
    const keep = {
      bucket: ancient,
      org_id: DEFAULT_ORG_ID,
      team_id: '',
      model: 'old-model',
      channel_id: '',
      status_class: '2xx',
      requests: 7,
    };
    await db
      .insertInto('analytics_day')
      // The other counters and the histograms take their defaults (0).
      .values({ ...keep, user_id: '', key_id: '' } as never)
      .execute();
    const result = await rebuildRollups(db, { now: clock.now(), minuteDays: 3, hourDays: 90 });
    expect(result.rows).toBe(rows.length);
    expect(result.from).toBe(Math.floor(Math.min(...rows.map((r) => r.at)) / DAY) * DAY);
    const rebuilt = await Promise.all(ALL_TABLES.map(snapshot));
    for (const [i, table] of ALL_TABLES.entries()) {
      const expected = (written[i] as string[]).filter((r) => table !== 'analytics_day' || !r.includes('old-model'));
      const got = (rebuilt[i] as string[]).filter((r) => !r.includes('old-model'));
      expect(got, table).toEqual(expected);
    }
    expect((rebuilt[ALL_TABLES.indexOf('analytics_day')] as string[]).some((r) => r.includes('old-model'))).toBe(true);
    await db.deleteFrom('analytics_day').where('model', '=', 'old-model').execute();
  });

  it('prunes minute and hour rollups by age, keeps day rollups; the log retention keeps them all', async () => {
    const db = t.database.handle.db;
    const count = async (table: (typeof ALL_TABLES)[number]) =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const daysBefore = await count('analytics_day');
    // The log's retention deletes raw rows older than a day; rollups stay.
    const settings = await call()('PATCH', '/api/admin/settings', {
      token: admin.token,
      body: { logRetentionDays: 1 },
    });
    expect(settings.status).toBe(200);
    expect((await t.services.retention.purge()).deleted).toBeGreaterThan(0);
    expect(await count('analytics_day')).toBe(daysBefore);
    const later = clock.now() + 100 * DAY;
    const result = await pruneRollups(db, later);
    expect(result.minute).toBeGreaterThan(0);
    expect(result.hour).toBeGreaterThan(0);
    expect(await count('analytics_minute')).toBe(0);
    expect(await count('analytics_hour')).toBe(0);
    expect(await count('analytics_day')).toBe(daysBefore);
    expect(await count('analytics_narrow_minute')).toBe(0);
    expect(await count('analytics_narrow_hour')).toBe(0);
    expect(await count('analytics_narrow_day')).toBeGreaterThan(0);
    // Day answers still come from the day rollups.
    const res = await call()<Answer>(
      'GET',
      `/api/analytics?from=${clock.now() - 60 * DAY}&to=${clock.now() + DAY}&interval=day`,
      { token: admin.token },
    );
    expect(res.body.grain).toBe('day');
    expect(res.body.totals.requests).toBe(rows.filter((r) => r.org_id === DEFAULT_ORG_ID || r.org_id === null).length);
  });
});
