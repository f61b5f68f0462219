#!/usr/bin/env node
/**
 * Make the upgrade fixtures of test/fixtures/migrations/ from an earlier release: run that release's server
 * (a checkout built or runnable with tsx) on a fresh SQLite file and a fresh PostgreSQL database, fill them
 * through its HTTP API the way users do, stop it, and keep the SQLite file and a `pg_dump --inserts` of the
 * PostgreSQL database. test/ops/upgrade.test.ts then migrates each with today's code and checks the data.
 *
 *   node scripts/migration-fixture.mjs <checkout of the release> <name> [postgres://…/postgres]
 *   e.g. git worktree add --detach /tmp/wave1 882db84 && node scripts/migration-fixture.mjs /tmp/wave1 wave1
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [checkout, name, adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres'] = process.argv.slice(2);
if (!checkout || !name) {
  console.error('usage: node scripts/migration-fixture.mjs <checkout> <name> [postgres admin URL]');
  process.exit(2);
}
const out = resolve('test/fixtures/migrations');
mkdirSync(out, { recursive: true });

/** What the fixture's data is made from (the upgrade test reads the same values). */
const FIXTURE = {
  secretKey: '5f'.repeat(32),
  masterKey: 'fixture-master-key-0123456789',
  admin: { email: 'admin@fixture.test', password: 'fixture-admin-pw' },
  user: { email: 'dev@fixture.test', password: 'fixture-user-pw' },
  channelKey: 'sk-upstream-fixture-secret',
};

async function fill(base) {
  const call = async (method, path, body, token = FIXTURE.masterKey) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const user = await call('POST', '/api/admin/users', { ...FIXTURE.user, role: 'user' });
  const team = await call('POST', '/api/admin/teams', { name: 'Fixture team' });
  await call('PATCH', `/api/admin/users/${user.id}`, { teamIds: [team.id] }).catch(() => undefined);
  const login = await call('POST', '/api/auth/login', FIXTURE.user, '');
  const key = await call('POST', '/api/keys', { name: 'fixture key' }, login.accessToken);
  await call('POST', '/api/admin/channels', {
    name: 'fixture upstream',
    type: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:9/v1',
    keys: [FIXTURE.channelKey],
  });
  await call('PATCH', `/api/admin/limits/user/${user.id}`, { rpm: 600, budgetMicros: 5_000_000, budgetPeriod: 'month' });
  await call('POST', '/api/admin/ip-rules', { scope: 'v1', action: 'deny', cidr: '203.0.113.0/24', note: 'fixture' });
  await call('PATCH', '/api/admin/settings', { exposeChannelHeader: true }).catch((e) =>
    console.warn(`(setting skipped: ${e.message})`),
  );
  for (const content of ['Hello', 'Once more']) {
    await call('POST', '/v1/chat/completions', { model: 'mock-gpt', messages: [{ role: 'user', content }] }, key.secret);
  }
  return { keySecret: key.secret, userId: user.id, teamId: team.id };
}

async function run(env, port) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
    cwd: checkout,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      AIHUB_LOG_LEVEL: 'warn',
      AIHUB_SECRET_KEY: FIXTURE.secretKey,
      AIHUB_MASTER_KEY: FIXTURE.masterKey,
      AIHUB_ADMIN_EMAIL: FIXTURE.admin.email,
      AIHUB_ADMIN_PASSWORD: FIXTURE.admin.password,
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${base}/ready`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    return await fill(base);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'aihub-fixture-'));
try {
  const sqlite = await run({ AIHUB_DATA_DIR: join(dir, 'sqlite') }, 39411);
  copyFileSync(join(dir, 'sqlite', 'aihub.db'), join(out, `${name}.sqlite`));
  const database = `aihub_fixture_${process.pid}`;
  execFileSync('psql', [adminUrl, '-qc', `CREATE DATABASE ${database}`]);
  const pgUrl = adminUrl.replace(/\/[^/]*$/, `/${database}`);
  try {
    const pg = await run({ AIHUB_DATA_DIR: join(dir, 'pg'), DATABASE_URL: pgUrl }, 39412);
    const dump = execFileSync('pg_dump', ['--inserts', '--no-owner', '--no-privileges', '--no-comments', pgUrl]);
    // pg_dump 15.14+/17.6+ wraps the script in psql-only \restrict lines: drop them, so any client can run it.
    writeFileSync(join(out, `${name}.pg.sql`), dump.toString().replace(/^\\(un)?restrict .*\n/gm, ''));
    writeFileSync(
      join(out, `${name}.json`),
      `${JSON.stringify({ ...FIXTURE, sqlite: { keySecret: sqlite.keySecret }, postgres: { keySecret: pg.keySecret } }, null, 2)}\n`,
    );
  } finally {
    execFileSync('psql', [adminUrl, '-qc', `DROP DATABASE ${database} WITH (FORCE)`]);
  }
  console.log(`wrote test/fixtures/migrations/${name}.{sqlite,pg.sql,json}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
