import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openServer } from '../../src/server.js';
import { createTestDatabase, ENGINES, type EngineName, type TestDatabase } from '../support/databases.js';
import { databaseEnv, exitOf, freePort, type ServerProcess, spawnServer, waitHealthy } from '../support/processes.js';

// Instances of one deployment share AIHUB_SECRET_KEY (sessions and provider keys must work on each of them).
const SECRET_KEY = 'ab'.repeat(32);
const ADMIN = { AIHUB_ADMIN_EMAIL: 'first@start.io', AIHUB_ADMIN_PASSWORD: 'first start password' };
const REDIS_URL = process.env.TEST_REDIS_URL;
const POSTGRES = ENGINES.includes('postgres');
/** Two servers compiled by tsx on a busy 2-core machine. */
const START_MS = 90_000;

/** What a first start writes, written once: the admin (when configured), the demo channel and its models. */
async function expectSeededOnce(db: TestDatabase, withAdmin: boolean): Promise<void> {
  const q = db.handle.db;
  const users = await q.selectFrom('users').select(['email', 'role']).execute();
  expect(users).toEqual(withAdmin ? [{ email: ADMIN.AIHUB_ADMIN_EMAIL, role: 'admin' }] : []);
  const audit = await q.selectFrom('audit_logs').select('action').where('action', 'like', 'user.%').execute();
  expect(audit).toEqual(withAdmin ? [{ action: 'user.create_admin' }] : []);
  expect(await q.selectFrom('channels').select('name').execute()).toEqual([{ name: 'demo-mock' }]);
  const models = await q.selectFrom('models').select('name').orderBy('name').execute();
  expect(models.map((m) => m.name)).toEqual(['mock-embedding', 'mock-gpt', 'mock-reasoner']);
}

async function stop(server: ServerProcess): Promise<number | null | 'timeout'> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  server.child.kill('SIGTERM');
  const code = await exitOf(server.child, 15_000);
  if (code === 'timeout') server.child.kill('SIGKILL');
  return code;
}

// docs/deployment.md: instances may start together. A fresh, empty database started by two `aihub start`
// processes at the same moment: both must serve, and the first start's seeds must exist exactly once.
describe.skipIf(!POSTGRES)('two processes starting at the same moment on a fresh PostgreSQL database', () => {
  const variants: Array<{ name: string; env: Record<string, string> }> = [
    { name: 'first admin from the environment', env: { ...ADMIN } },
    ...(REDIS_URL ? [{ name: 'first admin, with Redis', env: { ...ADMIN, REDIS_URL } }] : []),
    { name: 'no admin variables (demo channel)', env: {} },
  ];
  it.each(variants)(
    '$name: both serve, seeds exist once',
    async (variant) => {
      const db = await createTestDatabase('postgres', { migrate: false });
      // Logs at info: when an instance does not come up, the failure message shows how far it got.
      const env = { ...databaseEnv(db), ...variant.env, AIHUB_SECRET_KEY: SECRET_KEY, AIHUB_LOG_LEVEL: 'info' };
      const [portA, portB] = [await freePort(), await freePort()];
      const servers = [spawnServer(portA, env), spawnServer(portB, env)];
      try {
        const healthy = await Promise.all(servers.map((s) => waitHealthy(s, START_MS)));
        for (const [i, server] of servers.entries()) expect(healthy[i], `instance ${i}: ${server.output()}`).toBe(true);
        for (const server of servers) expect((await fetch(`${server.base}/ready`)).status).toBe(200);
        await expectSeededOnce(db, Boolean(variant.env.AIHUB_ADMIN_EMAIL));
        if (variant.env.AIHUB_ADMIN_EMAIL) {
          // The other instance signs the admin in too (one account, one key).
          const login = await fetch(`${servers[1]?.base}/api/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: ADMIN.AIHUB_ADMIN_EMAIL, password: ADMIN.AIHUB_ADMIN_PASSWORD }),
          });
          expect(login.status).toBe(200);
        }
        for (const server of servers) expect(await stop(server), server.output()).toBe(0);
      } finally {
        for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
        await db.drop();
      }
    },
    START_MS + 30_000,
  );
});

// The same start, three instances in one process (no process start-up jitter, so without the startup lock
// they interleave on every await and race on each seed): on either engine, every start succeeds and the seeds
// exist once. On SQLite this is several processes on one file.
describe.each(ENGINES)('three instances opening a fresh %s database together', (engine) => {
  it.each([
    { name: 'first admin from the environment', env: { ...ADMIN } },
    { name: 'no admin variables (demo channel)', env: {} as Record<string, string> },
  ])(
    '$name',
    async ({ env }) => {
      const db = await createTestDatabase(engine, { migrate: false });
      const config = async () =>
        loadConfig({
          ...databaseEnv(db),
          ...env,
          AIHUB_SECRET_KEY: SECRET_KEY,
          AIHUB_LOG_LEVEL: 'silent',
          HOST: '127.0.0.1',
          PORT: String(await freePort()),
        });
      const configs = await Promise.all([config(), config(), config()]);
      const started = await Promise.allSettled(configs.map((c) => openServer(c)));
      try {
        expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'started'))).toEqual([
          'started',
          'started',
          'started',
        ]);
        await expectSeededOnce(db, Boolean(env.AIHUB_ADMIN_EMAIL));
      } finally {
        for (const s of started) {
          if (s.status !== 'fulfilled') continue;
          await s.value.app.close();
          await s.value.runtime.close();
        }
        await db.drop();
      }
    },
    60_000,
  );
});

// A start that fails half way (here: AIHUB_CONFIG names a channel that does not exist, found only while
// applying it, after the database and Redis are connected) must end the process with status 1, not leave it
// running without serving: a supervisor restarts a process that exits, not one that hangs.
describe('a start that fails', () => {
  const engine: EngineName = POSTGRES ? 'postgres' : 'sqlite';
  it(`exits 1 at once (${engine}${REDIS_URL ? ' + Redis' : ''})`, async () => {
    const db = await createTestDatabase(engine);
    const file = join(db.dataDir, 'aihub.yaml');
    writeFileSync(file, 'models:\n  - name: gpt-x\n    routes:\n      - channel: nowhere\n');
    const server = spawnServer(await freePort(), {
      ...databaseEnv(db),
      AIHUB_SECRET_KEY: SECRET_KEY,
      AIHUB_CONFIG: file,
      ...(REDIS_URL ? { REDIS_URL } : {}),
    });
    try {
      const deadline = Date.now() + START_MS;
      while (!server.output().includes('unknown channel') && server.child.exitCode === null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(server.output()).toContain('route names unknown channel "nowhere"');
      expect(await exitOf(server.child, 5_000), server.output()).toBe(1);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await db.drop();
    }
  }, 90_000);
});
