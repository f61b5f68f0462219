import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor.js';
import { openDatabase } from '../../src/infra/db/client.js';
import { MIGRATIONS, migrateToLatest } from '../../src/infra/db/migrate.js';
import { client, startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, ENGINES, type EngineName, type TestDatabase } from '../support/databases.js';
import { ROOT } from '../support/processes.js';

/**
 * Upgrades from databases made by earlier releases (test/fixtures/migrations/<release>.{sqlite,pg.sql,json},
 * made by scripts/migration-fixture.mjs through that release's own API): today's migrations run over them and
 * everything users stored still works — sign-in, virtual keys, encrypted provider keys, limits, IP rules,
 * settings, the request log.
 */
const FIXTURES = resolve(ROOT, 'test/fixtures/migrations');
const RELEASES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length));

interface Fixture {
  secretKey: string;
  masterKey: string;
  admin: { email: string; password: string };
  user: { email: string; password: string };
  sqlite: { keySecret: string };
  postgres: { keySecret: string };
}

/** The release's database as it left it, on `engine`, not yet migrated by today's code. */
async function releaseDatabase(release: string, engine: EngineName): Promise<TestDatabase> {
  if (engine === 'postgres') {
    const db = await createTestDatabase('postgres', { migrate: false });
    const loader = new pg.Client({ connectionString: db.url });
    await loader.connect();
    await loader.query(readFileSync(join(FIXTURES, `${release}.pg.sql`), 'utf8'));
    await loader.end();
    return db;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'aihub-upgrade-'));
  copyFileSync(join(FIXTURES, `${release}.sqlite`), join(dataDir, 'aihub.db'));
  const handle = openDatabase({ url: undefined, dataDir });
  return {
    handle,
    dataDir,
    url: undefined,
    drop: async () => {
      await handle.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each(RELEASES)('upgrade from %s', (release) => {
  const fixture = JSON.parse(readFileSync(join(FIXTURES, `${release}.json`), 'utf8')) as Fixture;
  const secretKey = Buffer.from(fixture.secretKey, 'hex');

  describe.each(ENGINES)('on %s', (engine) => {
    let db: TestDatabase;
    let t: TestApp;
    let applied: string[];
    const keySecret = engine === 'postgres' ? fixture.postgres.keySecret : fixture.sqlite.keySecret;

    beforeAll(async () => {
      db = await releaseDatabase(release, engine);
      applied = (await migrateToLatest(db.handle.db)).applied;
      t = await startTestApp({ database: db, secretKey, env: { AIHUB_MASTER_KEY: fixture.masterKey } });
    }, 60_000);

    afterAll(async () => {
      await t?.close();
    });

    it('applies the migrations the release did not have, and only those', async () => {
      const known = Object.keys(MIGRATIONS);
      expect(applied.length).toBeGreaterThan(0);
      expect(applied).toEqual(known.slice(known.length - applied.length));
      expect((await migrateToLatest(db.handle.db)).applied).toEqual([]);
    });

    it('keeps accounts, keys, limits, IP rules, settings and the request log working', async () => {
      const call = client(t.url);
      const admin = await call<{ accessToken: string }>('POST', '/api/auth/login', { body: fixture.admin });
      expect(admin.status).toBe(200);
      const user = await call<{ accessToken: string }>('POST', '/api/auth/login', { body: fixture.user });
      expect(user.status).toBe(200);
      const keys = await call<{ data: Array<{ name: string }> }>('GET', '/api/keys', { token: user.body.accessToken });
      expect(keys.body.data.map((k) => k.name)).toEqual(['fixture key']);

      // The virtual key made by the release still authenticates and serves.
      const models = await call<{ data: Array<{ id: string }> }>('GET', '/v1/models', { token: keySecret });
      expect(models.status).toBe(200);
      expect(models.body.data.map((m) => m.id)).toContain('mock-gpt');
      const answer = await call('POST', '/v1/chat/completions', {
        token: keySecret,
        body: { model: 'mock-gpt', messages: [{ role: 'user', content: 'after the upgrade' }] },
      });
      expect(answer.status).toBe(200);

      const token = fixture.masterKey;
      const channels = await call<{ data: Array<{ name: string; type: string }> }>('GET', '/api/admin/channels', {
        token,
      });
      expect(channels.body.data.map((c) => c.name)).toContain('fixture upstream');
      const rules = await call<{ data: Array<{ cidr: string }> }>('GET', '/api/admin/ip-rules', { token });
      expect(rules.body.data.map((r) => r.cidr)).toContain('203.0.113.0/24');
      const users = await call<{ data: Array<{ id: string; email: string }> }>('GET', '/api/admin/users', { token });
      const dev = users.body.data.find((u) => u.email === fixture.user.email);
      const limits = await call<{ limits: { rpm: number; budgetMicros: number } }>(
        'GET',
        `/api/admin/limits/user/${dev?.id}`,
        { token },
      );
      expect(limits.body.limits).toMatchObject({ rpm: 600, budgetMicros: 5_000_000 });
      const settings = await call<{ exposeChannelHeader: boolean }>('GET', '/api/admin/settings', { token });
      expect(settings.body.exposeChannelHeader).toBe(true);
      const logs = await call<{ data: Array<{ status: number }> }>('GET', '/api/logs', {
        token: user.body.accessToken,
      });
      expect(logs.body.data.filter((l) => l.status === 200).length).toBeGreaterThanOrEqual(3);
    });

    it('moves everything into the Default organization: the admin owns it, users are developers', async () => {
      const call = client(t.url);
      const admin = await call<{ accessToken: string }>('POST', '/api/auth/login', { body: fixture.admin });
      const user = await call<{ accessToken: string }>('POST', '/api/auth/login', { body: fixture.user });
      const me = await call<{ organization: { id: string; name: string; role: string }; permissions: string[] }>(
        'GET',
        '/api/me',
        { token: user.body.accessToken },
      );
      expect(me.body.organization).toMatchObject({ id: 'org_default', role: 'developer' });
      expect(me.body.permissions).toEqual(expect.arrayContaining(['keys.own', 'logs.own']));
      const members = await call<{ data: Array<{ email: string; role: string }>; total: number }>(
        'GET',
        '/api/org/members',
        { token: admin.body.accessToken },
      );
      expect(members.status).toBe(200);
      const roles = Object.fromEntries(members.body.data.map((m) => [m.email, m.role]));
      expect(roles[fixture.admin.email]).toBe('owner');
      expect(roles[fixture.user.email]).toBe('developer');
      // The release's teams are the Default organization's, and its audit trail is the organization's.
      const teams = await call<{ data: Array<{ name: string }> }>('GET', '/api/org/teams', {
        token: admin.body.accessToken,
      });
      expect(teams.body.data.map((team) => team.name)).toContain('Fixture team');
      const audit = await call<{ data: Array<{ action: string }> }>('GET', '/api/admin/audit', {
        token: admin.body.accessToken,
      });
      expect(audit.body.data.map((a) => a.action)).toEqual(expect.arrayContaining(['user.create', 'team.create']));
    });

    it('stored provider keys still decrypt with the same secret key', async () => {
      const findings = await runDoctor({
        env: {
          AIHUB_DATA_DIR: db.dataDir,
          AIHUB_SECRET_KEY: fixture.secretKey,
          ...(db.url ? { DATABASE_URL: db.url } : {}),
        },
        timeoutMs: 2000,
      });
      expect(findings.find((f) => f.check === 'provider keys')).toMatchObject({ status: 'ok' });
      expect(findings.find((f) => f.check === 'schema')).toMatchObject({ status: 'ok' });
    });
  });
});
