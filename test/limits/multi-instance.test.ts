/**
 * Two AI Hub instances over one database and one Redis (the deployment the Redis backend exists for):
 * budgets, rates and concurrency are shared, so a burst spread over both instances is held exactly as on
 * one; and what is changed through one instance (limits, keys, models, settings, IP rules) applies on the
 * other at once, over the change bus.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { seedDemo } from '../../src/demo.js';
import { REDIS_CLIENT_OPTIONS } from '../../src/infra/state/redis-options.js';
import { createArgon2Hasher } from '../../src/modules/auth/passwords.js';
import { createServices, type Services, startServices } from '../../src/services.js';
import { type Call, client, ManualClock } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { HELLO, HELLO_COST, MASTER, START, statuses, uniqueEmail } from '../support/limits.js';

const REDIS_URL = process.env.TEST_REDIS_URL;

interface Instance {
  url: string;
  call: Call;
  services: Services;
  close(): Promise<void>;
}

/** One instance, as startTestApp builds it, but on a database and Redis prefix shared with others. */
async function startInstance(
  database: TestDatabase,
  redis: Redis,
  prefix: string,
  clock: ManualClock,
): Promise<Instance> {
  const config = loadConfig({ AIHUB_DATA_DIR: database.dataDir, AIHUB_LOG_LEVEL: 'silent', AIHUB_MASTER_KEY: MASTER });
  const services = createServices({
    config,
    database: database.handle,
    secretKey: Buffer.alloc(32, 7),
    clock,
    hasher: createArgon2Hasher({ memoryCost: 1024, timeCost: 1 }),
    redis,
    redisPrefix: prefix,
  });
  await startServices(services);
  const app = await buildApp(services, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    call: client(url),
    services,
    close: async () => {
      await app.close();
      await services.close();
    },
  };
}

describe.skipIf(!REDIS_URL)('two instances sharing Redis counters', () => {
  const clock = new ManualClock(START);
  const prefix = `aihub-test:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  let redis: Redis;
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;
  let userId: string;

  const newKey = async (body: Record<string, unknown>) => {
    const res = await a.call<{ secret: string; key: { id: string } }>('POST', '/api/keys', {
      token: MASTER,
      body: { name: `k-${Math.random().toString(36).slice(2, 6)}`, userId, ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const chat = (on: Instance, secret: string, extra: Record<string, unknown> = {}) =>
    on.call<{ error: { code: string; message: string } }>('POST', '/v1/chat/completions', {
      token: secret,
      body: { model: 'mock-gpt', max_tokens: 20, messages: [{ role: 'user', content: HELLO }], ...extra },
    });
  /** `n` requests at once, alternating between the instances. */
  const spread = (n: number, send: (on: Instance) => Promise<{ status: number }>) =>
    Promise.all(Array.from({ length: n }, (_, i) => send(i % 2 === 0 ? a : b)));

  beforeAll(async () => {
    redis = new Redis(REDIS_URL as string, REDIS_CLIENT_OPTIONS);
    database = await createTestDatabase('sqlite');
    a = await startInstance(database, redis, prefix, clock);
    b = await startInstance(database, redis, prefix, clock);
    await seedDemo(a.services);
    await b.services.catalog.reload();
    const user = await a.call<{ id: string }>('POST', '/api/admin/users', {
      token: MASTER,
      body: { email: uniqueEmail('multi'), password: 'correct horse 1' },
    });
    userId = user.body.id;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('holds one budget across both instances under a burst', async () => {
    const budget = 10 * HELLO_COST + 20;
    const { secret, key } = await newKey({ budgetMicros: budget, budgetPeriod: 'day' });
    const results = await spread(100, (on) => chat(on, secret));
    const counts = statuses(results);
    expect((counts[200] ?? 0) + (counts[429] ?? 0)).toBe(100);
    // Both instances refused some.
    expect(results.filter((r, i) => i % 2 === 0 && r.status === 429).length).toBeGreaterThan(0);
    expect(results.filter((r, i) => i % 2 === 1 && r.status === 429).length).toBeGreaterThan(0);
    await a.services.recorder.flush();
    await b.services.recorder.flush();
    const rows = await database.handle.db
      .selectFrom('request_logs')
      .select(['status', 'cost_micros'])
      .where('key_id', '=', key.id)
      .execute();
    const spent = rows.reduce((n, r) => n + Number(r.cost_micros), 0);
    // Every request is logged once: the served ones billed, the refused ones with their 429 and nothing billed.
    expect(rows.filter((r) => Number(r.status) === 200)).toHaveLength(counts[200] ?? 0);
    const refused = rows.filter((r) => Number(r.status) !== 200);
    expect(refused).toHaveLength(counts[429] ?? 0);
    expect(refused.every((r) => Number(r.status) === 429 && Number(r.cost_micros) === 0)).toBe(true);
    expect(spent).toBeLessThanOrEqual(budget + HELLO_COST);
    expect(spent).toBeGreaterThan(budget - HELLO_COST);
    // Each instance's view of the counter is the log.
    expect((await a.services.enforcer.current({ type: 'key', id: key.id }, 'cost', 'day')).used).toBe(spent);
    expect((await b.services.enforcer.current({ type: 'key', id: key.id }, 'cost', 'day')).used).toBe(spent);
  });

  it('counts requests per minute across both instances exactly', async () => {
    const { secret } = await newKey({ rpm: 5 });
    expect(statuses(await spread(12, (on) => chat(on, secret)))).toEqual({ 200: 5, 429: 7 });
  });

  it('counts requests in flight across both instances', async () => {
    const { secret } = await newKey({ maxConcurrency: 1 });
    const stream = await fetch(`${a.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'mock-gpt',
        stream: true,
        max_tokens: 10,
        messages: [{ role: 'user', content: HELLO }],
      }),
    });
    expect(stream.status).toBe(200);
    const refused = await chat(b, secret);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain('concurrent');
    await stream.text();
  });

  /** Ask until `check` holds (another instance's change arrives over Redis pub/sub, within milliseconds). */
  async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`not seen on the other instance within 2 s: ${what}`);
  }

  it("enforces a user's limit set through the other instance at once", async () => {
    const { secret } = await newKey({});
    expect((await chat(b, secret)).status).toBe(200);
    const set = await a.call('PATCH', `/api/admin/limits/user/${userId}`, {
      token: MASTER,
      body: { budgetMicros: 0, budgetPeriod: 'day' },
    });
    expect(set.status).toBe(200);
    expect((await chat(a, secret)).status).toBe(429);
    // No periodic refresh runs in this test and its clock stands still: only the change bus can tell b.
    await eventually(async () => (await chat(b, secret)).status === 429, 'the new user budget');
    const cleared = await b.call('PATCH', `/api/admin/limits/user/${userId}`, {
      token: MASTER,
      body: { budgetMicros: null },
    });
    expect(cleared.status).toBe(200);
    await eventually(async () => (await chat(a, secret)).status === 200, 'the budget removed through b');
  });

  it('refuses a key revoked through the other instance at once (not after the key cache expires)', async () => {
    const { secret, key } = await newKey({});
    expect((await chat(b, secret)).status).toBe(200); // cached on b
    expect((await a.call('DELETE', `/api/keys/${key.id}`, { token: MASTER })).status).toBeLessThan(300);
    await eventually(async () => (await chat(b, secret)).status === 401, 'the revocation');
  });

  it("applies an organization's and a team's model access changed through the other instance", async () => {
    const { secret } = await newKey({});
    expect((await chat(b, secret)).status).toBe(200); // cached on b
    await a.call('PATCH', '/api/org', { token: MASTER, body: { allowedModels: ['mock-reasoner'] } });
    await eventually(async () => (await chat(b, secret)).status === 403, 'the organization model access');
    await a.call('PATCH', '/api/org', { token: MASTER, body: { allowedModels: null } });
    await eventually(async () => (await chat(b, secret)).status === 200, 'the organization model access removed');
    const team = await a.call<{ id: string }>('POST', '/api/org/teams', {
      token: MASTER,
      body: { name: `bus-team-${Math.random().toString(36).slice(2, 6)}`, allowedModels: ['mock-gpt'] },
    });
    const inTeam = await newKey({ teamId: team.body.id });
    expect((await chat(b, inTeam.secret)).status).toBe(200);
    await a.call('PATCH', `/api/org/teams/${team.body.id}`, { token: MASTER, body: { allowedModels: ['mock-r*'] } });
    await eventually(async () => (await chat(b, inTeam.secret)).status === 403, 'the team model access');
  });

  it('serves a model added through the other instance, and applies its settings', async () => {
    const name = `bus-model-${Math.random().toString(36).slice(2, 8)}`;
    const { secret } = await newKey({});
    const channel = a.services.catalog.getModel('mock-gpt')?.routes[0]?.channel.id;
    expect(channel).toBeTruthy();
    const created = await a.call('POST', '/api/admin/models', {
      token: MASTER,
      body: { name, routes: [{ channelId: channel }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await eventually(async () => (await chat(b, secret, { model: name })).status === 200, 'the new model');

    const header = async () => (await chat(b, secret)).headers.get('x-aihub-channel');
    expect(await header()).toBeNull();
    const on = await a.call('PATCH', '/api/admin/settings', { token: MASTER, body: { exposeChannelHeader: true } });
    expect(on.status).toBe(200);
    await eventually(async () => (await header()) !== null, 'the setting');
    await a.call('PATCH', '/api/admin/settings', { token: MASTER, body: { exposeChannelHeader: false } });
    await eventually(async () => (await header()) === null, 'the setting turned off');
  });

  it('starts health probes at once when the other instance turns them on', async () => {
    const probed = async () => {
      const res = await b.call<{ data: Array<{ health: { lastCheck: unknown } }> }>('GET', '/api/admin/channels', {
        token: MASTER,
      });
      return res.body.data.some((c) => c.health.lastCheck !== null);
    };
    const set = (seconds: number) =>
      a.call('PATCH', '/api/admin/settings', { token: MASTER, body: { healthCheckIntervalSeconds: seconds } });
    expect((await set(0)).status).toBe(200);
    await eventually(async () => b.services.settings.get().healthCheckIntervalSeconds === 0, 'probes off');
    b.services.healthChecker.start();
    try {
      expect(await probed()).toBe(false);
      expect((await set(60)).status).toBe(200);
      // Not a minute later, when a timer armed while probes were off would fire.
      await eventually(probed, 'a probe on the other instance');
    } finally {
      b.services.healthChecker.stop();
    }
  });

  it('applies an IP rule added through the other instance', async () => {
    const { secret } = await newKey({});
    const rule = await a.call<{ id: string }>('POST', '/api/admin/ip-rules', {
      token: MASTER,
      body: { scope: 'v1', action: 'deny', cidr: '127.0.0.1/32' },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    try {
      await eventually(async () => (await chat(b, secret)).status === 403, 'the deny rule');
    } finally {
      await a.call('DELETE', `/api/admin/ip-rules/${rule.body.id}`, { token: MASTER });
    }
    await eventually(async () => (await chat(b, secret)).status === 200, 'the rule removed');
  });

  it('agrees with the log on both instances for the user level', async () => {
    await a.services.recorder.flush();
    await b.services.recorder.flush();
    const rows = await database.handle.db
      .selectFrom('request_logs')
      .select('cost_micros')
      .where('user_id', '=', userId)
      .execute();
    const spent = rows.reduce((n, r) => n + Number(r.cost_micros), 0);
    expect((await a.services.enforcer.current({ type: 'user', id: userId }, 'cost', 'month')).used).toBe(spent);
    expect((await b.services.enforcer.current({ type: 'user', id: userId }, 'cost', 'month')).used).toBe(spent);
  });
});
