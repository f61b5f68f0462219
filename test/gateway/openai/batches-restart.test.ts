/**
 * A batch survives restarts of the hub process (`aihub start` on a SQLite file, the official `openai` SDK as
 * the client, a fake upstream counting what it is sent):
 * - SIGTERM mid-batch: the lines in flight finish and are recorded, no new line starts, the process exits
 *   cleanly; the next start resumes the batch. No line is sent twice or lost.
 * - kill -9 mid-batch: the job comes back once its lease runs out and resumes from the recorded lines. The
 *   only lines that may be sent twice are those in flight at the kill (at most AIHUB_BATCH_CONCURRENCY), each
 *   at most twice; none is lost, and the output file still has every custom_id exactly once.
 */
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../../support/app.js';
import { createTestDatabase, type TestDatabase } from '../../support/databases.js';
import { ProgrammableUpstream } from '../../support/fakes/programmable-upstream.js';
import { eventually } from '../../support/gateway.js';
import {
  databaseEnv,
  exitOf,
  freePort,
  type ServerProcess,
  spawnServer,
  waitHealthy,
} from '../../support/processes.js';

/** A server compiled by tsx on a busy 2-core machine. */
const START_MS = 90_000;
const LINES = 600;
const CONCURRENCY = 4;
const MODEL = 'restart-model';
const ADMIN = { email: 'restart-admin@example.com', password: 'correct horse 1' };

interface OutputLine {
  custom_id: string | null;
  response: { status_code: number } | null;
  error: { code: string } | null;
}

/** How many times the upstream was sent each custom_id (from the question text). */
function sentCounts(upstream: ProgrammableUpstream): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of upstream.requests) {
    if (!r.path.endsWith('/chat/completions')) continue;
    const content = (JSON.parse(r.body) as { messages: Array<{ content: string }> }).messages[0]?.content ?? '';
    const id = content.replace(/^question /, '');
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('a batch across restarts of the hub process (SQLite)', () => {
  let db: TestDatabase;
  let upstream: ProgrammableUpstream;
  let server: ServerProcess | undefined;
  let port: number;
  let env: Record<string, string>;

  const start = async () => {
    server = spawnServer(port, env);
    expect(await waitHealthy(server, START_MS), server.output()).toBe(true);
    return server;
  };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    upstream = await new ProgrammableUpstream().start();
    // Slow enough answers that a restart lands mid-batch.
    upstream.always({ kind: 'ok', delayMs: 40 });
    port = await freePort();
    env = {
      ...databaseEnv(db),
      AIHUB_SECRET_KEY: 'cd'.repeat(32),
      AIHUB_ADMIN_EMAIL: ADMIN.email,
      AIHUB_ADMIN_PASSWORD: ADMIN.password,
      AIHUB_DEMO: 'false',
      AIHUB_BATCH_RPS: '200',
      AIHUB_BATCH_CONCURRENCY: String(CONCURRENCY),
      AIHUB_JOBS_POLL_MS: '100',
      // A short lease: after the kill -9 the job comes back within seconds (the default is 30 s).
      AIHUB_JOBS_LEASE_MS: '3000',
      AIHUB_SHUTDOWN_TIMEOUT_MS: '20000',
    };
  });

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await upstream?.close();
    await db?.drop();
  });

  it('resumes after SIGTERM and after kill -9: every custom_id once in the output, no line lost', async () => {
    let hub = await start();
    const call = client(hub.base);
    const login = await call<{ accessToken: string }>('POST', '/api/auth/login', { body: ADMIN });
    expect(login.status).toBe(200);
    const token = login.body.accessToken;
    const channel = await call<{ id: string }>('POST', '/api/admin/channels', {
      token,
      body: { name: 'up', type: 'openai', baseUrl: upstream.url, keys: ['sk-up'] },
    });
    expect(channel.status).toBe(201);
    const model = await call('POST', '/api/admin/models', {
      token,
      body: { name: MODEL, inputPrice: 1_000_000, outputPrice: 2_000_000, routes: [{ channelId: channel.body.id }] },
    });
    expect(model.status).toBe(201);
    const key = await call<{ secret: string }>('POST', '/api/keys', { token, body: { name: 'batch' } });
    expect(key.status).toBe(201);
    const sdk = () => new OpenAI({ apiKey: key.body.secret, baseURL: `${hub.base}/v1`, maxRetries: 0 });

    const lines: string[] = [];
    for (let i = 0; i < LINES; i++)
      lines.push(
        JSON.stringify({
          custom_id: `r-${i}`,
          method: 'POST',
          url: '/v1/chat/completions',
          body: { model: MODEL, messages: [{ role: 'user', content: `question r-${i}` }], max_tokens: 5 },
        }),
      );
    const file = await sdk().files.create({
      file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'restart.jsonl'),
      purpose: 'batch',
    });
    const created = await sdk().batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const completedAtLeast = (n: number) =>
      eventually(
        async () => ((await sdk().batches.retrieve(created.id)).request_counts?.completed ?? 0) >= n,
        60_000,
        `${n} lines completed`,
      );

    // 1. SIGTERM mid-batch: a clean exit, and every line sent so far was sent once.
    await completedAtLeast(60);
    hub.child.kill('SIGTERM');
    expect(await exitOf(hub.child, 30_000), hub.output()).toBe(0);
    const afterTerm = sentCounts(upstream);
    expect(afterTerm.size).toBeLessThan(LINES);
    expect([...afterTerm.values()].every((n) => n === 1)).toBe(true);
    // What the stopped process recorded is exactly what the upstream saw.
    const recorded = await db.handle.db
      .selectFrom('batch_results')
      .select('line')
      .where('batch_id', '=', created.id)
      .execute();
    expect(recorded).toHaveLength(afterTerm.size);

    // 2. Start again: the batch resumes; kill -9 part-way through.
    hub = await start();
    await completedAtLeast(afterTerm.size + 60);
    hub.child.kill('SIGKILL');
    await exitOf(hub.child, 10_000);
    const beforeKill = sentCounts(upstream);
    expect(beforeKill.size).toBeLessThan(LINES);
    // Nothing the SIGTERM stop recorded was sent again.
    for (const id of afterTerm.keys()) expect(beforeKill.get(id)).toBe(1);

    // 3. Start again: the job comes back after its lease (AIHUB_JOBS_LEASE_MS, 3 s here, not the default
    // 30 s) and the batch completes.
    hub = await start();
    const restarted = Date.now();
    await eventually(
      async () => (sentCounts(upstream).size > beforeKill.size ? true : undefined),
      20_000,
      'the batch to resume within the short lease',
    );
    expect(Date.now() - restarted).toBeLessThan(20_000);
    const batch = await eventually(
      async () => {
        const b = await sdk().batches.retrieve(created.id);
        return ['completed', 'failed', 'cancelled', 'expired'].includes(b.status) ? b : undefined;
      },
      120_000,
      'the batch to finish',
    );
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: LINES, completed: LINES, failed: 0 });
    expect(batch.error_file_id).toBeNull();
    const text = await (await sdk().files.content(batch.output_file_id as string)).text();
    const output = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as OutputLine);
    expect(output).toHaveLength(LINES);
    expect(output.map((l) => l.custom_id)).toEqual(lines.map((_, i) => `r-${i}`));
    expect(output.every((l) => l.response?.status_code === 200 && l.error === null)).toBe(true);

    // The upstream saw every line; only lines in flight at the kill -9 may have been sent twice.
    const sent = sentCounts(upstream);
    expect(sent.size).toBe(LINES);
    const twice = [...sent.entries()].filter(([, n]) => n > 1);
    expect(twice.length).toBeLessThanOrEqual(CONCURRENCY);
    expect(twice.every(([id, n]) => n === 2 && !afterTerm.has(id))).toBe(true);

    hub.child.kill('SIGTERM');
    expect(await exitOf(hub.child, 30_000)).toBe(0);
  }, 400_000);
});
