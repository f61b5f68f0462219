/**
 * A background response is a durable job: a hub stopped while the response runs (its upstream is slow) puts
 * the job back in the queue, and the next start of the hub on the same database runs it to completion.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/databases.js';
import { start as startAnthropic } from '../../support/fakes/anthropic.js';
import type { FakeUpstream } from '../../support/fakes/http.js';
import {
  databaseEnv,
  exitOf,
  freePort,
  type ServerProcess,
  spawnServer,
  waitHealthy,
} from '../../support/processes.js';

const MASTER_KEY = 'sk-master-restart-test-0000000000';
const SECRET_KEY = 'cd'.repeat(32);
/** A server compiled by tsx on a busy 2-core machine. */
const START_MS = 90_000;

async function stop(server: ServerProcess): Promise<number | null | 'timeout'> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  server.child.kill('SIGTERM');
  const code = await exitOf(server.child, 30_000);
  if (code === 'timeout') server.child.kill('SIGKILL');
  return code;
}

async function admin(base: string, path: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

describe('a background response across a restart of the hub (SQLite file)', () => {
  let db: TestDatabase;
  let claude: FakeUpstream;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite', { migrate: false });
    claude = await startAnthropic();
  });
  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await claude?.close();
    await db?.drop();
  });

  it(
    'is queued again when the hub stops mid-run, and completes after the next start',
    async () => {
      const env = {
        ...databaseEnv(db),
        AIHUB_MASTER_KEY: MASTER_KEY,
        AIHUB_SECRET_KEY: SECRET_KEY,
        // The running job is aborted half-way through the shutdown timeout and put back in the queue.
        AIHUB_SHUTDOWN_TIMEOUT_MS: '4000',
        AIHUB_JOBS_POLL_MS: '100',
      };
      const first = spawnServer(await freePort(), env);
      servers.push(first);
      expect(await waitHealthy(first, START_MS), first.output()).toBe(true);
      const channel = await admin(first.base, '/api/admin/channels', {
        name: 'claude',
        type: 'anthropic',
        baseUrl: claude.baseUrl,
        keys: [claude.key],
      });
      await admin(first.base, '/api/admin/models', {
        name: 'slow-claude',
        inputPrice: 1_000_000,
        outputPrice: 2_000_000,
        routes: [{ channelId: channel.id, upstreamModel: 'claude-sonnet-4' }],
      });

      // The upstream takes a minute: the hub is stopped while the response runs.
      claude.setScenario({ name: 'text', firstByteDelayMs: 60_000 });
      const before = claude.requests.length;
      const openai = new OpenAI({ baseURL: `${first.base}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
      const queued = await openai.responses.create({
        model: 'slow-claude',
        input: 'survive a restart',
        background: true,
      });
      expect(queued).toMatchObject({ status: 'queued', background: true });
      for (let i = 0; i < 200 && claude.requests.length === before; i++) await new Promise((r) => setTimeout(r, 50));
      expect(claude.requests.length, 'the job sent the request upstream').toBeGreaterThan(before);
      expect((await openai.responses.retrieve(queued.id)).status).toBe('in_progress');
      // A clean stop: the job that outlived its share of the timeout was put back in time.
      expect(await stop(first), first.output()).toBe(0);
      // The stop aborted the upstream request; the response waits in the queue.
      expect(claude.last().aborted).toBe(true);
      const row = await db.handle.db
        .selectFrom('responses')
        .select(['status'])
        .where('id', '=', queued.id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('queued');

      // The next start runs it again; this time the upstream answers at once.
      claude.setScenario('text');
      const second = spawnServer(await freePort(), env);
      servers.push(second);
      expect(await waitHealthy(second, START_MS), second.output()).toBe(true);
      const again = new OpenAI({ baseURL: `${second.base}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
      let done = await again.responses.retrieve(queued.id);
      for (let i = 0; i < 300 && (done.status === 'queued' || done.status === 'in_progress'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        done = await again.responses.retrieve(queued.id);
      }
      expect(done).toMatchObject({ id: queued.id, status: 'completed', background: true });
      expect(done.output_text.length).toBeGreaterThan(0);
      expect(done.usage?.output_tokens).toBeGreaterThan(0);
      expect(await stop(second), second.output()).toBe(0);
    },
    2 * START_MS + 60_000,
  );
});
