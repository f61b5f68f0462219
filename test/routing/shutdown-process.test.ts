/**
 * A clean stop of the real server process (`aihub start`, SIGTERM) under load loses no request-log row:
 * an OpenAI channel whose upstream streams events 40 ms apart and ends its body a moment after the client
 * got `[DONE]` (the row is settled then), 20 clients looping requests, SIGTERM after 2 s; afterwards every
 * request whose client got a complete answer has its row.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { client } from '../support/app.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import * as openaiFake from '../support/fakes/openai.js';
import { childEnv, exitOf, freePort, ROOT } from '../support/processes.js';

const STREAM_CLIENTS = 16;
const PLAIN_CLIENTS = 4;
const ADMIN = { email: 'stop@shutdown.test', password: 'stop password 1' };

/** The server's environment: ours without test, database and AI Hub variables, warnings logged, plus `extra`. */
const serverEnv = (extra: Record<string, string>) => childEnv({ AIHUB_LOG_LEVEL: 'warn', ...extra });

interface RunningServer {
  base: string;
  child: ChildProcess;
  /** What the server printed so far. */
  output(): string;
  /** Headers of a /v1 request with a virtual key, for model `gpt-4o` on the fake upstream. */
  headers: Record<string, string>;
}

/** `aihub start` in a child process over `database`, with model gpt-4o on an OpenAI channel to `upstream`. */
async function startServer(
  database: TestDatabase,
  upstream: FakeUpstream,
  env: Record<string, string>,
  running: ChildProcess[],
): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
    cwd: ROOT,
    env: serverEnv({
      AIHUB_DATA_DIR: database.dataDir,
      ...(database.url ? { DATABASE_URL: database.url } : {}),
      PORT: String(port),
      HOST: '127.0.0.1',
      AIHUB_ADMIN_EMAIL: ADMIN.email,
      AIHUB_ADMIN_PASSWORD: ADMIN.password,
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000; // tsx compiles the server on start: slow on a busy machine
  let healthy = false;
  while (!healthy && Date.now() < deadline && child.exitCode === null) {
    healthy = await fetch(`${base}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (!healthy) await new Promise((r) => setTimeout(r, 100));
  }
  expect(healthy, output).toBe(true);

  const call = client(base);
  const login = await call<{ accessToken: string }>('POST', '/api/auth/login', { body: ADMIN });
  const token = login.body.accessToken;
  const channel = await call<{ id: string }>('POST', '/api/admin/channels', {
    token,
    body: { name: 'slow-openai', type: 'openai', baseUrl: upstream.baseUrl, keys: [upstream.key] },
  });
  expect(channel.status, JSON.stringify(channel.body)).toBe(201);
  const model = await call('POST', '/api/admin/models', {
    token,
    body: { name: 'gpt-4o', routes: [{ channelId: channel.body.id, upstreamModel: 'gpt-4o' }] },
  });
  expect(model.status, JSON.stringify(model.body)).toBe(201);
  const key = await call<{ secret: string }>('POST', '/api/keys', { token, body: { name: 'load' } });
  expect(key.status).toBe(201);
  return {
    base,
    child,
    output: () => output,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key.body.secret}` },
  };
}

/** Rows of the request log by id (read after the server exited). */
async function logRows(database: TestDatabase): Promise<Map<string, { status: number }>> {
  const rows = await database.handle.db.selectFrom('request_logs').select(['id', 'status']).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

describe.each(ENGINES)('SIGTERM under streaming load (%s)', (engine) => {
  let database: TestDatabase | undefined;
  let upstream: FakeUpstream | undefined;
  const children: ChildProcess[] = [];
  const dispatcher = new Agent({ keepAliveTimeout: 10, keepAliveMaxTimeout: 10, connections: 64 });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await upstream?.close();
    await database?.drop();
    upstream = undefined;
    database = undefined;
  });
  afterAll(() => dispatcher.close());

  it('every request answered in full before the stop has its request-log row', async () => {
    database = await createTestDatabase(engine);
    upstream = await openaiFake.start();
    // 34 events 40 ms apart: a stream takes ~1.4 s. The upstream ends its body 300 ms after `[DONE]`, so
    // the streams still running at the stop settle well after their clients got the whole answer.
    upstream.setScenario({ name: 'text', chunkDelayMs: 40, endDelayMs: 300 });
    const server = await startServer(database, upstream, { AIHUB_SHUTDOWN_TIMEOUT_MS: '20000' }, children);

    /** Request ids of answers the client received whole (`[DONE]` included for streams). */
    const complete: string[] = [];
    let stopped = false;
    const loop = async (stream: boolean, times = Number.POSITIVE_INFINITY) => {
      for (let i = 0; i < times && !stopped; i++) {
        try {
          const res = await undiciFetch(`${server.base}/v1/chat/completions`, {
            method: 'POST',
            headers: server.headers,
            body: JSON.stringify({ model: 'gpt-4o', stream, messages: [{ role: 'user', content: 'Hello' }] }),
            dispatcher,
          });
          const text = await res.text();
          const id = res.headers.get('x-request-id');
          const whole = stream ? text.trimEnd().endsWith('data: [DONE]') : text.includes('"choices"');
          if (res.status === 200 && whole && id) complete.push(id);
          if (!stream) await new Promise((r) => setTimeout(r, 50));
        } catch {
          // Refused or cut off by the stop: this client is done.
          return;
        }
      }
    };
    // Warm up (the first requests load code and connections), so the load runs at speed when the stop comes.
    await Promise.all([loop(true, 1), loop(false, 1)]);
    complete.length = 0;
    const clients = [
      ...Array.from({ length: STREAM_CLIENTS }, () => loop(true)),
      ...Array.from({ length: PLAIN_CLIENTS }, () => loop(false)),
    ];
    await new Promise((r) => setTimeout(r, 2_000));
    server.child.kill('SIGTERM');
    expect(await exitOf(server.child, 30_000), server.output()).toBe(0);
    stopped = true;
    await Promise.all(clients);

    const logged = await logRows(database);
    const missing = complete.filter((id) => !logged.has(id));
    expect(complete.length).toBeGreaterThan(STREAM_CLIENTS);
    expect(
      missing,
      `${missing.length} of ${complete.length} answered requests have no row\n${server.output()}`,
    ).toEqual([]);
    for (const id of complete) expect(logged.get(id)?.status).toBe(200);
  }, 120_000);

  it.runIf(engine === 'sqlite')(
    'past AIHUB_SHUTDOWN_TIMEOUT_MS: cuts the streams still running, logs them as 499 and exits 1',
    async () => {
      database = await createTestDatabase(engine);
      upstream = await openaiFake.start();
      // 34 events 500 ms apart: ~17 s, far longer than the 1 s the stop may take.
      upstream.setScenario({ name: 'text', chunkDelayMs: 500 });
      const server = await startServer(database, upstream, { AIHUB_SHUTDOWN_TIMEOUT_MS: '1000' }, children);
      const ids: string[] = [];
      const streams = Array.from({ length: 3 }, async () => {
        const res = await undiciFetch(`${server.base}/v1/chat/completions`, {
          method: 'POST',
          headers: server.headers,
          body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Hello' }] }),
          dispatcher,
        });
        ids.push(res.headers.get('x-request-id') ?? '');
        return res.text().catch(() => 'cut');
      });
      // Every stream has started (headers received) when the stop comes.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(ids).toHaveLength(3);
      const stoppedAt = Date.now();
      server.child.kill('SIGTERM');
      expect(await exitOf(server.child, 15_000), server.output()).toBe(1);
      // Cut off, not run to their end (~15 s more): the timeout, then at most 5 s to write the log.
      expect(Date.now() - stoppedAt, server.output()).toBeLessThan(10_000);
      expect(server.output()).not.toContain('could not write the request log in time');
      for (const text of await Promise.all(streams)) expect(text).not.toContain('[DONE]');
      expect(server.output()).toContain('shutdown deadline passed');

      const logged = await logRows(database);
      for (const id of ids) expect(logged.get(id)?.status, server.output()).toBe(499);
    },
    120_000,
  );
});
