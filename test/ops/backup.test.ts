import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Kysely, type Migration, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase, RestoreError, readBackupHeader, restoreDatabase } from '../../src/infra/db/backup.js';
import type { DatabaseHandle } from '../../src/infra/db/client.js';
import { appliedMigrations, knownMigrations, migrateToLatest, pendingMigrations } from '../../src/infra/db/migrate.js';
import { MASTER_KEY } from '../support/accounts.js';
import { type Call, client, startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, ENGINES, type EngineName, type TestDatabase } from '../support/databases.js';
import { runCli } from '../support/processes.js';

const scratch = mkdtempSync(join(tmpdir(), 'aihub-backup-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Row counts of every table but the migrator's own. */
async function rowCounts(handle: DatabaseHandle): Promise<Record<string, number>> {
  const db = handle.db as unknown as Kysely<unknown>;
  const counts: Record<string, number> = {};
  for (const t of await db.introspection.getTables()) {
    if (t.name.startsWith('aihub_migrations')) continue;
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t.name)}`.execute(db);
    counts[t.name] = Number(rows[0]?.n);
  }
  return counts;
}

/** A hub with data in every kind of table: users, a key, channels (one with an encrypted key), a model, logs. */
async function populatedHub(engine: EngineName): Promise<{ t: TestApp; call: Call; secret: string }> {
  const t = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
  const call = client(t.url);
  const admin = { token: MASTER_KEY };
  const user = await call<{ id: string }>('POST', '/api/admin/users', {
    ...admin,
    body: { email: 'backup@example.com', password: 'backup-password-1', name: 'Zoë "quoted" \\ name' },
  });
  const key = await call<{ secret: string }>('POST', '/api/keys', {
    ...admin,
    body: { name: 'laptop', userId: user.body.id, budgetMicros: 5_000_000, budgetPeriod: 'month' },
  });
  const mock = await call<{ id: string }>('POST', '/api/admin/channels', {
    ...admin,
    body: { name: 'mock', type: 'mock' },
  });
  const sealed = await call('POST', '/api/admin/channels', {
    ...admin,
    body: { name: 'openai', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', keys: ['sk-provider-secret-1'] },
  });
  expect(sealed.status).toBe(201);
  await call('POST', '/api/admin/models', {
    ...admin,
    body: {
      name: 'backup-model',
      inputPrice: 1_000_000,
      outputPrice: 2_000_000,
      routes: [{ channelId: mock.body.id }],
    },
  });
  for (let i = 0; i < 3; i++) {
    const res = await call('POST', '/v1/chat/completions', {
      token: key.body.secret,
      body: { model: 'backup-model', messages: [{ role: 'user', content: `hello ${i}` }] },
    });
    expect(res.status).toBe(200);
  }
  await t.services.recorder.flush();
  return { t, call, secret: key.body.secret };
}

describe.each(ENGINES)('backup and restore (%s)', (engine) => {
  let source: { t: TestApp; call: Call; secret: string };
  let file: string;
  beforeAll(async () => {
    source = await populatedHub(engine);
    file = join(scratch, `${engine}.aihub-backup.gz`);
  });
  afterAll(async () => {
    await source?.t.close();
  });

  it('backs up a running hub and restores every row into an empty database, where the hub works as before', async () => {
    const { header, tables } = await backupDatabase(source.t.database.handle, file);
    expect(header.engine).toBe(engine);
    expect(header.migrations).toEqual(knownMigrations());
    const before = await rowCounts(source.t.database.handle);
    expect(Object.fromEntries(tables.map((x) => [x.table, x.rows]))).toEqual(before);
    expect(before.request_logs).toBe(3);

    const target = await createTestDatabase(engine, { migrate: false });
    const restored = await restoreDatabase(target.handle, file);
    expect(restored.migratedAfter).toEqual([]);
    expect(await rowCounts(target.handle)).toEqual(before);
    const name = await target.handle.db
      .selectFrom('users')
      .select('name')
      .where('email', '=', 'backup@example.com')
      .executeTakeFirst();
    expect(name?.name).toBe('Zoë "quoted" \\ name');

    // The restored hub (same secret key) accepts the old API key, knows its spend, and reads the provider key.
    const t = await startTestApp({ database: target, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    try {
      const call = client(t.url);
      const res = await call('POST', '/v1/chat/completions', {
        token: source.secret,
        body: { model: 'backup-model', messages: [{ role: 'user', content: 'after restore' }] },
      });
      expect(res.status).toBe(200);
      await t.services.recorder.flush();
      expect((await rowCounts(t.database.handle)).request_logs).toBe(4);
      const channels = await call<{ data: Array<{ name: string; keys: Array<{ hint: string }> }> }>(
        'GET',
        '/api/admin/channels',
        { token: MASTER_KEY },
      );
      const openai = channels.body.data.find((c) => c.name === 'openai');
      expect(openai?.keys[0]?.hint).toMatch(/-1$/);
      const sealed = await t.database.handle.db
        .selectFrom('channel_keys')
        .select('secret_enc')
        .executeTakeFirstOrThrow();
      expect(t.services.secretBox.decrypt(sealed.secret_enc)).toBe('sk-provider-secret-1');
    } finally {
      await t.close();
    }
  });

  it('refuses a database that is not empty unless told to replace it, and then replaces it whole', async () => {
    const target = await createTestDatabase(engine);
    try {
      await expect(restoreDatabase(target.handle, file)).rejects.toThrow(/not empty.*--force/);
      await target.handle.db
        .insertInto('settings')
        .values({ key: 'doomed', value: '"x"', updated_at: 1 } as never)
        .execute();
      await restoreDatabase(target.handle, file, { replace: true });
      expect(await rowCounts(target.handle)).toEqual(await rowCounts(source.t.database.handle));
      const doomed = await target.handle.db.selectFrom('settings').selectAll().where('key', '=', 'doomed').execute();
      expect(doomed).toEqual([]);
    } finally {
      await target.drop();
    }
  });

  it('refuses files that are not backups, and backups made by a newer version', async () => {
    const target = await createTestDatabase(engine, { migrate: false });
    try {
      const junk = join(scratch, 'junk.gz');
      writeFileSync(junk, gzipSync('{"hello":1}\n'));
      await expect(restoreDatabase(target.handle, junk)).rejects.toThrow(RestoreError);
      const plain = join(scratch, 'plain.txt');
      writeFileSync(plain, 'not gzip at all');
      await expect(readBackupHeader(plain)).rejects.toThrow(/not an AI Hub backup/);
      const newer = join(scratch, 'newer.gz');
      const header = { ...(await readBackupHeader(file)), migrations: [...knownMigrations(), '9999_future'] };
      writeFileSync(newer, gzipSync(`${JSON.stringify(header)}\n`));
      await expect(restoreDatabase(target.handle, newer)).rejects.toThrow(/newer AI Hub.*9999_future/);
      // Nothing was applied to the target by a refused restore.
      expect(await appliedMigrations(target.handle.db)).toEqual([]);
    } finally {
      await target.drop();
    }
  });
});

describe.skipIf(!ENGINES.includes('postgres'))('moving from SQLite to PostgreSQL', () => {
  it('restores an SQLite backup into PostgreSQL', async () => {
    const source = await populatedHub('sqlite');
    const target = await createTestDatabase('postgres', { migrate: false });
    try {
      const file = join(scratch, 'move.gz');
      await backupDatabase(source.t.database.handle, file);
      await restoreDatabase(target.handle, file);
      expect(await rowCounts(target.handle)).toEqual(await rowCounts(source.t.database.handle));
    } finally {
      await source.t.close();
      await target.drop();
    }
  });
});

describe.each(ENGINES)('migrations (%s)', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine, { migrate: false });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('lists pending migrations without applying them, then none once applied', async () => {
    expect(await pendingMigrations(db.handle.db)).toEqual(knownMigrations());
    expect(await appliedMigrations(db.handle.db)).toEqual([]);
    await migrateToLatest(db.handle.db);
    expect(await pendingMigrations(db.handle.db)).toEqual([]);
  });

  it('rolls a failed upgrade back whole, leaving the schema the previous version uses', async () => {
    const { MIGRATIONS } = await import('../../src/infra/db/migrate.js');
    const failing: Migration = {
      up: async (k) => {
        await k.schema.createTable('upgrade_half_done').addColumn('id', 'text').execute();
        await k.schema.alterTable('users').addColumn('upgrade_column', 'text').execute();
        throw new Error('boom');
      },
    };
    const good: Migration = {
      up: async (k) => void (await k.schema.createTable('upgrade_first').addColumn('id', 'text').execute()),
    };
    await expect(
      migrateToLatest(db.handle.db, { ...MIGRATIONS, '9998_first': good, '9999_failing': failing }),
    ).rejects.toThrow(/9999_failing failed: boom/);
    const tables = (await (db.handle.db as unknown as Kysely<unknown>).introspection.getTables()).map((t) => t.name);
    expect(tables).not.toContain('upgrade_half_done');
    expect(tables).not.toContain('upgrade_first');
    const users = (await (db.handle.db as unknown as Kysely<unknown>).introspection.getTables()).find(
      (t) => t.name === 'users',
    );
    expect(users?.columns.map((c) => c.name)).not.toContain('upgrade_column');
    expect(await appliedMigrations(db.handle.db)).toEqual(knownMigrations());
    // The previous version's schema still serves: rows are written and read as before.
    await db.handle.db
      .insertInto('settings')
      .values({ key: 'after_failure', value: '1', updated_at: 1 } as never)
      .execute();
    expect(
      await db.handle.db.selectFrom('settings').select('key').where('key', '=', 'after_failure').execute(),
    ).toHaveLength(1);
  });
});

// Each command is a Node process loading the sources through tsx: seconds each on a busy 2-core machine.
describe('command line: migrate --dry-run, backup, restore, doctor', { timeout: 180_000 }, () => {
  it('backs up and restores through the CLI, and the doctor sees a healthy setup', async () => {
    const from = mkdtempSync(join(scratch, 'cli-from-'));
    const to = mkdtempSync(join(scratch, 'cli-to-'));
    const file = join(scratch, 'cli.gz');
    const secret = { AIHUB_SECRET_KEY: 'cd'.repeat(32) };

    const dry = await runCli(['migrate', '--dry-run'], { AIHUB_DATA_DIR: from, ...secret });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`Would apply ${knownMigrations().length} migration(s)`);
    expect((await runCli(['migrate'], { AIHUB_DATA_DIR: from, ...secret })).code).toBe(0);
    expect((await runCli(['migrate', '--dry-run'], { AIHUB_DATA_DIR: from, ...secret })).stdout).toContain(
      'Nothing to do',
    );

    const backup = await runCli(['backup', '--to', file], { AIHUB_DATA_DIR: from, ...secret });
    expect(backup.stdout).toMatch(/Backed up \d+ rows of \d+ tables/);
    expect(backup.code).toBe(0);
    const restore = await runCli(['restore', '--from', file], { AIHUB_DATA_DIR: to, ...secret });
    expect(restore.stdout).toContain('Restored');
    expect(restore.code).toBe(0);
    const again = await runCli(['restore', '--from', file], { AIHUB_DATA_DIR: to, ...secret });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('--force');

    const doctor = await runCli(['doctor', '--timeout', '2000'], { AIHUB_DATA_DIR: to, ...secret });
    expect(doctor.stdout).toMatch(/\[ok {2}\] database: sqlite/);
    expect(doctor.stdout).toMatch(/\[ok {2}\] schema: up to date/);
    expect(doctor.stdout).toContain('No problems found');
    expect(doctor.code).toBe(0);
  });

  it('the doctor names what is broken and how to fix it, and exits 1', async () => {
    const dir = mkdtempSync(join(scratch, 'cli-broken-'));
    const doctor = await runCli(['doctor', '--timeout', '1500'], {
      AIHUB_DATA_DIR: dir,
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/\[FAIL\] database: .*/);
    expect(doctor.stdout).toContain('Check DATABASE_URL');
    expect(doctor.stdout).toMatch(/\[FAIL\] Redis: /);
    expect(doctor.stdout).toMatch(/2 problems to fix/);

    const bad = await runCli(['doctor'], { AIHUB_DATA_DIR: dir, PORT: 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/\[FAIL\] configuration: .*PORT/);
  });
});
