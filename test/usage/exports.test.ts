/**
 * Request-log exports as jobs: POST /api/logs/exports starts one (scoped like the log list), the job streams
 * the rows into a file, GET shows its progress, the download serves the CSV; the export is its user's (on
 * their Jobs page; 404 for anyone else). Both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLogsTable } from '../../src/infra/db/schema.js';
import { client, register } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { eventually, type GatewayUnderTest, startGateway, uniqueEmail } from '../support/gateway.js';

const ROWS = 2_500;

function row(i: number, owner: { orgId: string; userId: string; keyId: string }): RequestLogsTable {
  return {
    id: `req_export${String(i).padStart(8, '0')}`,
    at: 1_700_000_000_000 + i,
    user_id: owner.userId,
    key_id: owner.keyId,
    org_id: owner.orgId,
    team_id: null,
    channel_id: null,
    model: i % 2 === 0 ? 'even-model' : 'odd-model',
    upstream_model: null,
    endpoint: 'chat',
    stream: 0,
    status: 200,
    error_code: null,
    prompt_tokens: 10,
    completion_tokens: 5,
    cached_tokens: 0,
    reasoning_tokens: 0,
    estimated: 0,
    cost_micros: 7,
    price_micros: 7,
    latency_ms: 12,
    ttft_ms: null,
    client_ip: '127.0.0.1',
    attempts: null,
    request_body: null,
    response_body: null,
    cache: null,
  };
}

interface Job {
  id: string;
  type: string;
  state: string;
  progress: number;
  result: { rows: number; bytes: number; filename: string } | null;
}

describe.each(ENGINES)('log exports as jobs (%s)', (engine) => {
  let gw: GatewayUnderTest;

  beforeAll(async () => {
    gw = await startGateway(engine, { env: { AIHUB_JOBS_POLL_MS: '50' } });
    const key = await gw.t.services.database.db
      .selectFrom('api_keys')
      .select(['org_id', 'user_id'])
      .where('id', '=', gw.keyId)
      .executeTakeFirstOrThrow();
    const owner = { orgId: key.org_id, userId: key.user_id, keyId: gw.keyId };
    for (let i = 0; i < ROWS; i++) gw.t.services.recorder.record(row(i, owner));
    await gw.t.services.recorder.flush();
    await gw.t.services.jobs.start({ workers: true });
  }, 60_000);

  afterAll(async () => {
    await gw?.t.close();
  });

  /** The export job once it has succeeded (its owner's view). */
  const succeeded = (id: string, token: string) =>
    eventually(
      async () => {
        const job = await gw.call<Job>('GET', `/api/logs/exports/${id}`, { token });
        return job.body.state === 'succeeded' ? job.body : undefined;
      },
      30_000,
      'the export',
    );

  it('produces the CSV in the background; the user downloads it and sees the job on their Jobs page', async () => {
    const started = await gw.call<Job>('POST', '/api/logs/exports', { token: gw.admin.token, body: {} });
    expect(started.status).toBe(202);
    expect(started.body.type).toBe('logs.export');
    const done = await succeeded(started.body.id, gw.admin.token);
    expect(done.progress).toBe(100);
    expect(done.result?.rows).toBe(ROWS);

    const res = await fetch(`${gw.url}/api/logs/exports/${started.body.id}/download`, {
      headers: { authorization: `Bearer ${gw.admin.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    expect(res.headers.get('content-disposition')).toContain(done.result?.filename);
    const lines = (await res.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(ROWS + 1);
    expect(lines[0]).toMatch(/^id,/);

    const mine = await gw.call<{ data: Job[] }>('GET', '/api/jobs?type=logs.export', { token: gw.admin.token });
    expect(mine.body.data.map((j) => j.id)).toContain(started.body.id);
  }, 60_000);

  it('applies the filters of the log list', async () => {
    const started = await gw.call<Job>('POST', '/api/logs/exports', {
      token: gw.admin.token,
      body: { model: 'even-model' },
    });
    expect(started.status).toBe(202);
    const done = await succeeded(started.body.id, gw.admin.token);
    expect(done.result?.rows).toBe(ROWS / 2);
  }, 60_000);

  it('takes the admin list’s user and channel filters', async () => {
    const owner = await gw.t.services.database.db
      .selectFrom('api_keys')
      .select('user_id')
      .where('id', '=', gw.keyId)
      .executeTakeFirstOrThrow();
    const rowsOf = async (body: Record<string, string>) => {
      const started = await gw.call<Job>('POST', '/api/logs/exports', { token: gw.admin.token, body });
      expect(started.status).toBe(202);
      const done = await succeeded(started.body.id, gw.admin.token);
      return done.result?.rows;
    };
    expect(await rowsOf({ scope: 'all', userId: owner.user_id, model: 'odd-model' })).toBe(ROWS / 2);
    expect(await rowsOf({ scope: 'all', channelId: 'ch_none' })).toBe(0);
  }, 60_000);

  it('is its user’s alone: another user gets 404, no token 401, bad input 400', async () => {
    const started = await gw.call<Job>('POST', '/api/logs/exports', { token: gw.admin.token, body: {} });
    const other = await register(client(gw.url), uniqueEmail('other'));
    for (const path of [`/api/logs/exports/${started.body.id}`, `/api/logs/exports/${started.body.id}/download`]) {
      expect((await gw.call('GET', path, { token: other.token })).status).toBe(404);
      expect((await gw.call('GET', path)).status).toBe(401);
    }
    // What the other user exports holds only their own requests (none).
    const theirs = await gw.call<Job>('POST', '/api/logs/exports', { token: other.token, body: {} });
    const done = await succeeded(theirs.body.id, other.token);
    expect(done.result?.rows).toBe(0);
    // Naming another user's id narrows what you reach; it never widens it.
    const owner = await gw.t.services.database.db
      .selectFrom('api_keys')
      .select('user_id')
      .where('id', '=', gw.keyId)
      .executeTakeFirstOrThrow();
    const named = await gw.call<Job>('POST', '/api/logs/exports', {
      token: other.token,
      body: { userId: owner.user_id },
    });
    expect(named.status).toBe(202);
    const namedDone = await succeeded(named.body.id, other.token);
    expect(namedDone.result?.rows).toBe(0);
    const bad = await gw.call('POST', '/api/logs/exports', { token: gw.admin.token, body: { status: 'many' } });
    expect(bad.status).toBe(400);
    expect((await gw.call('GET', '/api/logs/exports/job_nope', { token: gw.admin.token })).status).toBe(404);
  }, 60_000);
});
