/**
 * Prepaid balances across two instances over one database and one Redis: a burst spread over both spends
 * the balance once (overshoot of at most one request's reservation), the billing mode set through one
 * instance applies on the other at once (change bus), and the ledger stays the sum of its entries.
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
import { eventually } from '../support/gateway.js';
import { HELLO, HELLO_COST, MASTER, START, statuses, uniqueEmail } from '../support/limits.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
/** What one request reserves (its estimate) before it settles to HELLO_COST. */
const HELLO_RESERVATION = 50;

interface Instance {
  call: Call;
  services: Services;
  close(): Promise<void>;
}

async function startInstance(database: TestDatabase, redis: Redis, prefix: string, clock: ManualClock) {
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
  const instance: Instance = {
    call: client(url),
    services,
    close: async () => {
      await app.close();
      await services.close();
    },
  };
  return instance;
}

describe.skipIf(!REDIS_URL)('prepaid balance across two instances sharing Redis', () => {
  const clock = new ManualClock(START);
  const prefix = `aihub-test:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  let redis: Redis;
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;
  let secret: string;
  let orgId: string;
  let userId: string;

  const chat = (on: Instance) =>
    on.call<{ error: { code: string } }>('POST', '/v1/chat/completions', {
      token: secret,
      body: { model: 'mock-gpt', max_tokens: 20, messages: [{ role: 'user', content: HELLO }] },
    });
  const settle = async () => {
    for (const on of [a, b]) await on.services.recorder.flush();
    for (const on of [a, b]) await on.services.billing.charger.flush();
  };

  beforeAll(async () => {
    redis = new Redis(REDIS_URL as string, REDIS_CLIENT_OPTIONS);
    database = await createTestDatabase(process.env.TEST_DATABASE_URL ? 'postgres' : 'sqlite');
    a = await startInstance(database, redis, prefix, clock);
    b = await startInstance(database, redis, prefix, clock);
    await seedDemo(a.services);
    await b.services.catalog.reload();
    const user = await a.call<{ id: string }>('POST', '/api/admin/users', {
      token: MASTER,
      body: { email: uniqueEmail('prepaid'), password: 'correct horse 1' },
    });
    const key = await a.call<{ secret: string }>('POST', '/api/keys', {
      token: MASTER,
      body: { name: 'prepaid', userId: user.body.id },
    });
    secret = key.body.secret;
    userId = user.body.id;
    orgId = (await a.call<{ id: string }>('GET', '/api/org', { token: MASTER })).body.id;
  }, 60_000);
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

  it('spends one balance once under a burst over both instances', async () => {
    const set = await a.call('PATCH', `/api/admin/organizations/${orgId}/billing`, {
      token: MASTER,
      body: { billingMode: 'prepaid' },
    });
    expect(set.status).toBe(200);
    // The other instance learns the mode over the change bus: its next request meets the empty balance.
    await eventually(async () => (await chat(b)).status === 402, 5_000, 'prepaid mode on the other instance');
    const credit = 10 * HELLO_COST + 20;
    const adjusted = await b.call('POST', `/api/admin/organizations/${orgId}/billing/adjustments`, {
      token: MASTER,
      body: { amountMicros: credit, reason: 'burst test' },
    });
    expect(adjusted.status).toBe(201);

    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => chat(i % 2 === 0 ? a : b)));
    const counts = statuses(results);
    expect((counts[200] ?? 0) + (counts[402] ?? 0)).toBe(60);
    expect(results.filter((r, i) => i % 2 === 0 && r.status === 402).length).toBeGreaterThan(0);
    expect(results.filter((r, i) => i % 2 === 1 && r.status === 402).length).toBeGreaterThan(0);
    const served = counts[200] ?? 0;
    // Never more than the balance plus one request's reservation.
    expect(served * HELLO_COST).toBeLessThanOrEqual(credit + HELLO_RESERVATION);
    expect(served).toBeGreaterThanOrEqual(10);

    await settle();
    expect(await a.services.billing.service.verify()).toEqual([]);
    const wallet = await a.services.billing.service.wallet(orgId);
    expect(wallet.balanceMicros).toBe(credit - served * HELLO_COST);
    expect(await b.services.billing.wallets.available(orgId)).toBe(wallet.balanceMicros);
  });

  it("spends a user wallet once under a burst over both instances, leaving the organization's alone", async () => {
    const on = await a.call('PATCH', '/api/admin/settings', { token: MASTER, body: { billingMemberWallets: 'user' } });
    expect(on.status).toBe(200);
    const orgBefore = (await a.services.billing.service.wallet(orgId)).balanceMicros;
    await b.call('POST', `/api/admin/organizations/${orgId}/billing/adjustments`, {
      token: MASTER,
      body: { amountMicros: 1_000_000, reason: 'the organization has money' },
    });
    const credit = 10 * HELLO_COST + 20;
    // Created on b: a learns of the new wallet (and the setting) over the change bus.
    const topUp = await b.call<{ walletId: string }>(
      'POST',
      `/api/admin/organizations/${orgId}/billing/member-wallets/adjustments`,
      { token: MASTER, body: { ownerType: 'user', ownerId: userId, amountMicros: credit, reason: 'burst test' } },
    );
    expect(topUp.status, JSON.stringify(topUp.body)).toBe(201);
    const walletId = topUp.body.walletId;
    // Both the setting and the new wallet reach a over the change bus; until then a charges the organization.
    await eventually(
      async () =>
        a.services.billing.service.memberWalletMode() === 'user' &&
        a.services.billing.directory.walletOf(orgId, null, userId) === walletId,
      5_000,
      'the setting and the wallet on the other instance',
    );
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => chat(i % 2 === 0 ? a : b)));
    const counts = statuses(results);
    expect((counts[200] ?? 0) + (counts[402] ?? 0)).toBe(60);
    const served = counts[200] ?? 0;
    expect(served * HELLO_COST).toBeLessThanOrEqual(credit + HELLO_RESERVATION);
    expect(served).toBeGreaterThanOrEqual(10);
    expect(results.filter((r, i) => i % 2 === 0 && r.status === 402).length).toBeGreaterThan(0);
    expect(results.filter((r, i) => i % 2 === 1 && r.status === 402).length).toBeGreaterThan(0);

    await settle();
    expect(await a.services.billing.service.verify()).toEqual([]);
    const member = (await a.services.billing.service.memberWallets(orgId)).find((w) => w.id === walletId);
    expect(member?.balanceMicros).toBe(credit - served * HELLO_COST);
    expect(await b.services.billing.wallets.available(walletId)).toBe(member?.balanceMicros);
    expect((await a.services.billing.service.wallet(orgId)).balanceMicros).toBe(orgBefore + 1_000_000);
    await a.call('PATCH', '/api/admin/settings', { token: MASTER, body: { billingMemberWallets: 'off' } });
  });
});
