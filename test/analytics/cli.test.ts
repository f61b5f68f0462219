/**
 * `aihub analytics query` (the analytics API's answer in a terminal: a table, CSV or JSON) and `aihub analytics
 * rebuild` (the rollups summed again from the request log), on both databases, as an operator runs them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ORG_ID } from '../../src/infra/db/migrations/0001_foundation.js';
import type { RequestLogsTable } from '../../src/infra/db/schema.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';
import { logRow } from '../support/log-rows.js';
import { databaseEnv, runCli } from '../support/processes.js';

const HOUR = 3_600_000;

function row(i: number, at: number, model: string, status: number): RequestLogsTable {
  return logRow({
    id: `req_cli_${String(i).padStart(4, '0')}`,
    at,
    org_id: DEFAULT_ORG_ID,
    model,
    status,
    error_code: status === 200 ? null : 'upstream_error',
    prompt_tokens: 100,
    completion_tokens: 50,
    cost_micros: 1_000,
    price_micros: 1_500,
    latency_ms: 200 + i,
  });
}

describe.each(ENGINES)('aihub analytics (%s)', (engine) => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    env = databaseEnv(db);
    expect((await runCli(['migrate'], env)).code).toBe(0);
  }, 120_000);
  afterAll(async () => db?.drop());

  it('rebuilds rollups from a log written without them, then answers from them as a table, CSV and JSON', async () => {
    // Rows that reached the log without rollups (restored from an old backup, say): analytics sees nothing.
    const now = Date.now();
    const rows = [
      ...Array.from({ length: 6 }, (_, i) => row(i, now - 2 * HOUR - i * 60_000, 'gpt-4o', i === 0 ? 502 : 200)),
      ...Array.from({ length: 3 }, (_, i) => row(10 + i, now - 3 * HOUR, 'claude-3', 200)),
    ];
    await db.handle.db.insertInto('request_logs').values(rows).execute();
    const before = await runCli(['analytics', 'query', '--format', 'json'], env);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout).totals.requests).toBe(0);

    const rebuilt = await runCli(['analytics', 'rebuild'], env);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toContain('from 9 request-log rows');

    const json = await runCli(['analytics', 'query', '--group-by', 'model', '--format', 'json'], env);
    expect(json.code, json.stderr).toBe(0);
    const answer = JSON.parse(json.stdout) as {
      totals: { requests: number; errors: number; costMicros: number };
      groups: Array<{ key: string; metrics: { requests: number } }>;
    };
    expect(answer.totals).toMatchObject({ requests: 9, errors: 1, costMicros: 9_000 });
    expect(answer.groups.map((g) => [g.key, g.metrics.requests])).toEqual([
      ['gpt-4o', 6],
      ['claude-3', 3],
    ]);

    const table = await runCli(['analytics', 'query', '--group-by', 'model', '--metrics', 'requests,errors,cost'], env);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/^model\s+requests\s+errors\s+cost$/);
    expect(lines[2]).toMatch(/^gpt-4o\s+6\s+1\s+0\.0060$/);
    expect(lines.at(-1)).toMatch(/^total\s+9\s+1\s+0\.0090$/);

    const csv = await runCli(
      ['analytics', 'query', '--group-by', 'model', '--interval', 'hour', '--format', 'csv'],
      env,
    );
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe(
      'bucket,group,label,requests,errors,tokens,cost_micros,latency_p50,latency_p95',
    );
    expect(csv.stdout).toContain(',claude-3,,3,0,450,3000,');
  }, 120_000);

  it('says what is wrong with a bad range or organization, exit 1', async () => {
    const days = await runCli(['analytics', 'query', '--days', '0'], env);
    expect(days.code).toBe(1);
    expect(days.stderr).toContain('--days must be a number of days from 1 to 400');
    const from = await runCli(['analytics', 'query', '--from', 'yesterday-ish'], env);
    expect(from.code).toBe(1);
    expect(from.stderr).toContain('--from must be a date');
    const org = await runCli(['analytics', 'query', '--org', 'no-such-org'], env);
    expect(org.code).toBe(1);
    expect(org.stderr).toContain('No organization no-such-org');
    const interval = await runCli(['analytics', 'query', '--days', '90', '--interval', 'minute'], env);
    expect(interval.code).toBe(1);
    expect(interval.stderr).toContain('interval=minute is finer than this range allows');
  }, 120_000);
});
