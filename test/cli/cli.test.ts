import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { createArgon2Hasher } from '../../src/modules/auth/passwords.js';
import { KeysRepository } from '../../src/modules/keys/repository.js';
import { KeyVerifier } from '../../src/modules/keys/verifier.js';
import { UsersRepository } from '../../src/modules/users/repository.js';
import { MASTER_KEY } from '../support/accounts.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';
import { childEnv, databaseEnv, exitOf, freePort, ROOT, runCli } from '../support/processes.js';

describe('aihub CLI: help and configuration', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'aihub-cli-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it.concurrent('lists its commands in --help', async () => {
    const res = await runCli(['--help'], { AIHUB_DATA_DIR: dataDir });
    expect(res.code).toBe(0);
    for (const command of ['start', 'worker', 'migrate', 'user', 'key', 'config'])
      expect(res.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  }, 180_000);

  it.concurrent('config check: exits 1 naming every bad variable', async () => {
    const res = await runCli(['config', 'check'], { AIHUB_DATA_DIR: dataDir, PORT: 'abc', AIHUB_MASTER_KEY: 'short' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('PORT');
    expect(res.stderr).toContain('AIHUB_MASTER_KEY');
    expect(res.stderr).not.toMatch(/^\s+at /m); // a message, not a stack trace
  }, 180_000);

  it.concurrent('config check: exits 0 on a valid configuration without printing secrets', async () => {
    const res = await runCli(['config', 'check'], {
      AIHUB_DATA_DIR: dataDir,
      PORT: '4321',
      AIHUB_MASTER_KEY: MASTER_KEY,
      DATABASE_URL: 'postgres://aihub:db-password-123@db.internal:5432/aihub',
      AIHUB_SECRET_KEY: 'cd'.repeat(32),
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Configuration is valid');
    expect(res.stdout).toMatch(/PORT\s+4321/);
    expect(res.stdout).toMatch(/AIHUB_MASTER_KEY\s+\(set\)/);
    const printed = res.stdout + res.stderr;
    expect(printed).not.toContain(MASTER_KEY);
    expect(printed).not.toContain('db-password-123');
    expect(printed).not.toContain('cd'.repeat(32));
  }, 180_000);

  it.concurrent('user create: refuses a password shorter than 8 characters', async () => {
    const res = await runCli(['user', 'create', '--email', 'short@y.io', '--password', 'short'], {
      AIHUB_DATA_DIR: dataDir,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('--password');
  }, 180_000);

  // The API only accepts email addresses as sign-in names; the CLI must not create other ones.
  it('user create: refuses an email that is not an email address', async () => {
    const res = await runCli(['user', 'create', '--email', 'not-an-email'], { AIHUB_DATA_DIR: dataDir });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('email');
  }, 180_000);
});

// Each test has its own database: they run side by side to keep the file fast.
describe.concurrent.each(ENGINES)('aihub CLI on %s', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(async () => db?.drop());

  it('migrates, creates an admin with a generated password and a key for them', async () => {
    const env = databaseEnv(db);
    const migrated = await runCli(['migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain(engine);

    const created = await runCli(['user', 'create', '--email', 'X@Y.io', '--admin', '--name', 'Ops'], env);
    expect(created.code, created.stderr).toBe(0);
    const password = /Password: (\S+)/.exec(created.stdout)?.[1];
    expect(password).toBeDefined();
    expect((password as string).length).toBeGreaterThanOrEqual(12);
    const user = await new UsersRepository(db.handle.db).findByEmail('x@y.io');
    expect(user).toMatchObject({ email: 'x@y.io', name: 'Ops', role: 'admin', status: 'active' });
    expect(await createArgon2Hasher().verify(user?.password_hash as string, password as string)).toBe(true);
    // (Other tests of this describe create users in the same database at the same time.)
    const audit = await db.handle.db
      .selectFrom('audit_logs')
      .selectAll()
      .where('action', '=', 'user.create')
      .where('target_id', '=', user?.id as string)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_type: 'system', target_id: user?.id });

    const [key, nobody, duplicate] = await Promise.all([
      runCli(['key', 'create', '--user', 'x@y.io', '--name', 'deploy'], env),
      runCli(['key', 'create', '--user', 'nobody@y.io'], env),
      runCli(['user', 'create', '--email', 'x@y.io'], env),
    ]);
    expect(key.code, key.stderr).toBe(0);
    const secret = /^(sk-\S+)$/m.exec(key.stdout)?.[1];
    expect(secret).toMatch(/^sk-[A-Za-z0-9_-]{43}$/);
    const verified = await new KeyVerifier(new KeysRepository(db.handle.db), systemClock).verify(secret as string);
    expect(verified).toMatchObject({ ok: true, key: { userId: user?.id, name: 'deploy' } });

    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('nobody@y.io');
    expect(nobody.stdout).not.toMatch(/sk-/);

    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('already exists');
  }, 180_000);

  it('creates an organization with an owner, adds a member, and makes a key in it', async () => {
    const env = databaseEnv(db);
    const users = await Promise.all(
      ['owner@org.io', 'dev@org.io', 'out@org.io'].map((email) =>
        runCli(['user', 'create', '--email', email, '--password', 'correct horse 1'], env),
      ),
    );
    for (const made of users) expect(made.code, made.stderr).toBe(0);
    const created = await runCli(
      ['org', 'create', '--name', 'CLI Corp', '--slug', 'cli-corp', '--owner', 'owner@org.io'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('cli-corp');
    const [added, badRole, noOrg] = await Promise.all([
      runCli(['org', 'add-member', '--org', 'cli-corp', '--email', 'dev@org.io', '--role', 'viewer'], env),
      runCli(['org', 'add-member', '--org', 'cli-corp', '--email', 'out@org.io', '--role', 'wizard'], env),
      runCli(['org', 'add-member', '--org', 'nope', '--email', 'dev@org.io'], env),
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain('wizard');
    expect(noOrg.code).toBe(1);
    const [listed, key, outsider] = await Promise.all([
      runCli(['org', 'list'], env),
      runCli(['key', 'create', '--user', 'dev@org.io', '--org', 'cli-corp'], env),
      runCli(['key', 'create', '--user', 'out@org.io', '--org', 'cli-corp'], env),
    ]);
    expect(listed.stdout).toMatch(/cli-corp\s+active\s+2 members\s+CLI Corp/);
    expect(key.code, key.stderr).toBe(0);
    const secret = /^(sk-\S+)$/m.exec(key.stdout)?.[1] as string;
    const verified = await new KeyVerifier(new KeysRepository(db.handle.db), systemClock).verify(secret);
    const org = await db.handle.db
      .selectFrom('organizations')
      .select('id')
      .where('slug', '=', 'cli-corp')
      .executeTakeFirst();
    expect(verified).toMatchObject({ ok: true, key: { orgId: org?.id } });
    expect(outsider.code).toBe(1);
    expect(outsider.stderr).toContain('not a member');
  }, 180_000);

  it('user reset-2fa: turns off a user’s two-factor authentication, audited; refuses when there is none', async () => {
    const env = databaseEnv(db);
    const made = await runCli(['user', 'create', '--email', 'lost@phone.io', '--password', 'correct horse 1'], env);
    expect(made.code, made.stderr).toBe(0);
    const user = await new UsersRepository(db.handle.db).findByEmail('lost@phone.io');
    await db.handle.db
      .insertInto('user_two_factor')
      .values({
        user_id: user?.id as string,
        secret: 'v1:sealed',
        enabled_at: 1,
        last_used_step: null,
        created_at: 1,
        updated_at: 1,
      })
      .execute();
    const reset = await runCli(['user', 'reset-2fa', '--user', 'lost@phone.io'], env);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('lost@phone.io');
    const left = await db.handle.db
      .selectFrom('user_two_factor')
      .selectAll()
      .where('user_id', '=', user?.id as string)
      .execute();
    expect(left).toEqual([]);
    const audit = await db.handle.db
      .selectFrom('audit_logs')
      .selectAll()
      .where('action', '=', 'auth.2fa_reset')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_type: 'system', target_id: user?.id, org_id: user?.org_id });
    const [again, nobody] = await Promise.all([
      runCli(['user', 'reset-2fa', '--user', 'lost@phone.io'], env),
      runCli(['user', 'reset-2fa', '--user', 'nobody@phone.io'], env),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no two-factor authentication');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('nobody@phone.io');
  }, 180_000);

  it('starts the server, serves /health, creates the first admin from the environment, and exits 0 on SIGTERM', async () => {
    const fresh = await createTestDatabase(engine);
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
      cwd: ROOT,
      env: childEnv({
        ...databaseEnv(fresh),
        PORT: String(port),
        HOST: '127.0.0.1',
        AIHUB_ADMIN_EMAIL: 'boot@y.io',
        AIHUB_ADMIN_PASSWORD: 'boot password 1',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 90_000; // tsx compiles the server on start: slow on a busy 2-core machine
      let healthy = false;
      while (!healthy && Date.now() < deadline && child.exitCode === null) {
        healthy = await fetch(`${base}/health`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (!healthy) await new Promise((r) => setTimeout(r, 100));
      }
      expect(healthy, output).toBe(true);
      expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: 'ready', database: engine });
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'boot@y.io', password: 'boot password 1' }),
      });
      expect(login.status).toBe(200);
      expect(((await login.json()) as { user: { role: string } }).user.role).toBe('admin');

      child.kill('SIGTERM');
      expect(await exitOf(child, 10_000), output).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await fresh.drop();
    }
  }, 180_000);
});
