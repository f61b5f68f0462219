import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import { BACKENDS, type Call, client, ManualClock, register, startTestApp, type TestApp } from '../support/app.js';

interface KeyCreated {
  secret: string;
  key: { id: string };
}
interface Usage {
  user: {
    usage: { spend: { used: number; limit: number | null; remaining: number | null; resetsAt: number | null } };
  } | null;
  keys: Array<{
    id: string;
    usage: {
      requests: number;
      spend: { used: number; limit: number | null; remaining: number | null; resetsAt: number | null };
      tokens: { used: number };
    };
  }>;
}

describe.each(BACKENDS)('quotas, budgets and rate limits (%s counters)', (backend) => {
  let t: TestApp;
  let call: Call;
  // Admin calls use the master key, so moving the clock does not expire them.
  const MASTER = 'quota-test-master-key-0123456789';
  const admin = MASTER;
  let adminUser = '';
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 10, 0, 0));
  let n = 0;

  const newKey = async (body: Record<string, unknown>, token = admin) => {
    const owner = token === admin ? { userId: adminUser } : {};
    const res = await call<KeyCreated>('POST', '/api/keys', { token, body: { name: `k${++n}`, ...owner, ...body } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const chat = (key: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    call<{ error?: { code: string; message: string } }>('POST', '/v1/chat/completions', {
      token: key,
      headers,
      body: { model: 'mock-gpt', max_tokens: 20, messages: [{ role: 'user', content: 'Hello there' }], ...extra },
    });

  beforeAll(async () => {
    t = await startTestApp({ backend, clock, env: { AIHUB_TRUST_PROXY: 'true', AIHUB_MASTER_KEY: MASTER } });
    call = client(t.url);
    adminUser = (await register(call, `quota-admin-${backend}@example.com`)).userId;
    await seedDemo(t.services);
  });
  afterAll(async () => t?.close());

  it('holds a small budget under a burst of 200 parallel requests (overshoot at most one request)', async () => {
    const { secret, key } = await newKey({ budgetMicros: 500, budgetPeriod: 'day' });
    const results = await Promise.all(Array.from({ length: 200 }, () => chat(secret)));
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 429);
    expect(ok).toBeGreaterThan(0);
    expect(ok + refused.length).toBe(200);
    expect(refused[0]?.body.error?.code).toBe('insufficient_quota');
    expect(refused[0]?.headers.get('retry-after')).toBe(String((Date.UTC(2026, 10, 23) - clock.now()) / 1000));
    await t.services.recorder.flush();
    const rows = await t.database.handle.db
      .selectFrom('request_logs')
      .select(['cost_micros', 'status'])
      .where('key_id', '=', key.id)
      .execute();
    const spent = rows.reduce((sum, r) => sum + Number(r.cost_micros), 0);
    const oneRequest = Math.max(...rows.map((r) => Number(r.cost_micros)));
    expect(rows.filter((r) => r.status === 200)).toHaveLength(ok);
    expect(spent).toBeLessThanOrEqual(500 + oneRequest);

    // What the developer sees matches the request log.
    const usage = await call<Usage>('GET', '/api/usage/current', { token: secret });
    expect(usage.body.keys[0]?.usage.spend).toMatchObject({
      used: spent,
      limit: 500,
      remaining: Math.max(0, 500 - spent),
      resetsAt: Date.UTC(2026, 10, 23),
    });
  });

  it('refuses the side routes too: /v1/messages (Anthropic shape) and /v1/embeddings', async () => {
    const { secret } = await newKey({ budgetMicros: 1, budgetPeriod: 'day' });
    expect((await chat(secret)).status).toBe(200);
    const messages = await call<{ type: string; error: { type: string } }>('POST', '/v1/messages', {
      headers: { 'x-api-key': secret },
      body: { model: 'mock-gpt', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(messages.status).toBe(429);
    expect(messages.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    const embeddings = await call<{ error: { code: string } }>('POST', '/v1/embeddings', {
      token: secret,
      body: { model: 'mock-embedding', input: 'hi' },
    });
    expect(embeddings.status).toBe(429);
    expect(embeddings.body.error.code).toBe('insufficient_quota');
  });

  it('counts requests per minute exactly, with OpenAI-style headers', async () => {
    const { secret } = await newKey({ rpm: 5 });
    const results = await Promise.all(Array.from({ length: 12 }, () => chat(secret)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    const refused = results.find((r) => r.status === 429);
    expect(refused?.body.error?.code).toBe('rate_limit_exceeded');
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThan(0);
    const okOne = results.find((r) => r.status === 200);
    expect(okOne?.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect(okOne?.headers.get('x-ratelimit-remaining-requests')).toMatch(/^[0-4]$/);
    expect(okOne?.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
  });

  it('limits tokens per minute and concurrent requests', async () => {
    const tpm = await newKey({ tpm: 100 });
    const first = await chat(tpm.secret, { max_tokens: 20 });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('100');
    const big = await chat(tpm.secret, { max_tokens: 500 });
    expect(big.status).toBe(429);

    const slow = await call<{ id: string }>('POST', '/api/admin/channels', {
      token: admin,
      body: { name: `slow-${backend}`, type: 'mock', options: { provider: { chunkDelayMs: '40' } } },
    });
    await call('POST', '/api/admin/models', {
      token: admin,
      body: { name: `slow-model-${backend}`, routes: [{ channelId: slow.body.id }] },
    });
    const conc = await newKey({ maxConcurrency: 2 });
    const stream = () =>
      fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${conc.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: `slow-model-${backend}`,
          stream: true,
          messages: [{ role: 'user', content: 'tell me more' }],
        }),
      });
    const [a, b] = [await stream(), await stream()];
    const third = await chat(conc.secret);
    expect(third.status).toBe(429);
    expect(third.body.error?.message).toContain('concurrent');
    await Promise.all([a.text(), b.text()]);
    await new Promise((r) => setTimeout(r, 50));
    expect((await chat(conc.secret)).status).toBe(200);
  });

  it('rolls a daily budget over at midnight in the configured time zone, without any job', async () => {
    await call('PATCH', '/api/admin/settings', { token: admin, body: { limitsTimeZone: 'Asia/Shanghai' } });
    try {
      clock.time = Date.UTC(2026, 10, 22, 15, 0); // 23:00 in Shanghai
      const { secret } = await newKey({ budgetMicros: 1, budgetPeriod: 'day' });
      expect((await chat(secret)).status).toBe(200);
      expect((await chat(secret)).status).toBe(429);
      const usage = await call<Usage>('GET', '/api/usage/current', { token: secret });
      expect(usage.body.keys[0]?.usage.spend.resetsAt).toBe(Date.UTC(2026, 10, 22, 16, 0));
      clock.time = Date.UTC(2026, 10, 22, 16, 0, 1); // 00:00:01 the next day in Shanghai
      expect((await chat(secret)).status).toBe(200);
    } finally {
      await call('PATCH', '/api/admin/settings', { token: admin, body: { limitsTimeZone: 'UTC' } });
      clock.time = Date.UTC(2026, 10, 22, 10, 0, 0);
    }
  });

  it('checks every level: a key within its limits is refused when its team, user or organization is not', async () => {
    const team = await call<{ id: string }>('POST', '/api/admin/teams', {
      token: admin,
      body: { name: `team-${backend}` },
    });
    expect(team.status).toBe(201);
    const member = await register(call, `quota-member-${backend}@example.com`);
    const { secret, key } = await newKey({ budgetMicros: 1_000_000 }, member.token);
    expect(
      (await call('PATCH', `/api/keys/${key.id}`, { token: member.token, body: { teamId: team.body.id } })).status,
    ).toBe(403);
    expect((await call('PATCH', `/api/keys/${key.id}`, { token: admin, body: { teamId: team.body.id } })).status).toBe(
      200,
    );
    expect((await chat(secret)).status).toBe(200);

    expect(
      (
        await call('PATCH', `/api/admin/limits/team/${team.body.id}`, {
          token: admin,
          body: { budgetMicros: 1, budgetPeriod: 'month' },
        })
      ).status,
    ).toBe(200);
    const teamRefused = await chat(secret);
    expect(teamRefused.status).toBe(429);
    expect(teamRefused.body.error?.message).toMatch(/^Your team's monthly budget is used up/);
    await call('PATCH', `/api/admin/limits/team/${team.body.id}`, { token: admin, body: { budgetMicros: null } });

    await call('PATCH', `/api/admin/limits/user/${member.userId}`, {
      token: admin,
      body: { tokenQuota: 1, tokenQuotaPeriod: 'week' },
    });
    const userRefused = await chat(secret);
    expect(userRefused.status).toBe(429);
    expect(userRefused.body.error?.message).toMatch(/^Your weekly token quota is used up/);
    await call('PATCH', `/api/admin/limits/user/${member.userId}`, { token: admin, body: { tokenQuota: null } });
    expect((await chat(secret)).status).toBe(200);

    const limits = await call<{ limits: { budgetMicros: number | null }; usage: { requests: number } }>(
      'GET',
      `/api/admin/limits/team/${team.body.id}`,
      { token: admin },
    );
    expect(limits.body.usage.requests).toBeGreaterThan(0);
    expect((await call('GET', `/api/admin/limits/team/${team.body.id}`, { token: member.token })).status).toBe(403);
    expect((await call('GET', '/api/admin/limits/team/team_nope', { token: admin })).status).toBe(404);
    const bad = await call<{ error: { message: string } }>('PATCH', `/api/admin/limits/user/${member.userId}`, {
      token: admin,
      body: { rpm: -3 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('rpm');
  });

  it('restricts a key to models (names and wildcards) and to client addresses (v4, v6, mapped)', async () => {
    const models = await newKey({ allowedModels: ['mock-g*'] });
    expect((await chat(models.secret)).status).toBe(200);
    const denied = await chat(models.secret, { model: 'mock-reasoner' });
    expect(denied.status).toBe(403);
    expect(denied.body.error?.code).toBe('model_not_allowed');
    const list = await call<{ data: Array<{ id: string }> }>('GET', '/v1/models', { token: models.secret });
    expect(list.body.data.map((m) => m.id)).toEqual(['mock-gpt']);

    const ips = await newKey({ allowedIps: ['203.0.113.0/24', '2001:db8::/32'] });
    expect((await chat(ips.secret, {}, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200);
    expect((await chat(ips.secret, {}, { 'x-forwarded-for': '::ffff:203.0.113.10' })).status).toBe(200);
    expect((await chat(ips.secret, {}, { 'x-forwarded-for': '2001:db8:1::5' })).status).toBe(200);
    const outside = await chat(ips.secret, {}, { 'x-forwarded-for': '198.51.100.1' });
    expect(outside.status).toBe(403);
    expect(outside.body.error?.code).toBe('ip_not_allowed');
    expect((await chat(ips.secret, {}, { 'x-forwarded-for': '2001:db9::1' })).status).toBe(403);
    const invalid = await call<{ error: { code: string } }>('POST', '/api/keys', {
      token: admin,
      body: { name: 'bad', allowedIps: ['300.1.2.3/8'] },
    });
    expect(invalid.status).toBe(400);
  });

  it('gives new users and keys the default limits from settings', async () => {
    await call('PATCH', '/api/admin/settings', {
      token: admin,
      body: { defaultKeyLimits: { rpm: 3 }, defaultUserLimits: { budgetMicros: 7_000_000 } },
    });
    try {
      const user = await register(call, `quota-defaults-${backend}@example.com`);
      const { secret } = await newKey({}, user.token);
      const results = await Promise.all(Array.from({ length: 5 }, () => chat(secret)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(3);
      const limits = await call<{ limits: { budgetMicros: number } }>('GET', `/api/admin/limits/user/${user.userId}`, {
        token: admin,
      });
      expect(limits.body.limits.budgetMicros).toBe(7_000_000);
    } finally {
      await call('PATCH', '/api/admin/settings', {
        token: admin,
        body: { defaultKeyLimits: {}, defaultUserLimits: {} },
      });
    }
  });

  it('shows each developer only their own usage, and a daily history that matches the log', async () => {
    const dev = await register(call, `quota-dev-${backend}@example.com`);
    const other = await register(call, `quota-other-${backend}@example.com`);
    const mine = await newKey({}, dev.token);
    const theirs = await newKey({}, other.token);
    for (let i = 0; i < 3; i++) expect((await chat(mine.secret)).status).toBe(200);
    await chat(mine.secret, { model: 'mock-reasoner' });
    const current = await call<Usage>('GET', '/api/usage/current', { token: dev.token });
    expect(current.body.keys.map((k) => k.id)).toEqual([mine.key.id]);
    expect(current.body.keys[0]?.usage.requests).toBe(4);
    const history = await call<{ data: Array<{ model: string; requests: number; costMicros: number }> }>(
      'GET',
      '/api/usage/history',
      { token: dev.token },
    );
    expect(history.body.data.map((d) => [d.model, d.requests])).toEqual([
      ['mock-gpt', 3],
      ['mock-reasoner', 1],
    ]);
    expect((await call('GET', `/api/usage/history?keyId=${theirs.key.id}`, { token: dev.token })).status).toBe(404);
    expect((await call('GET', '/api/usage/current')).status).toBe(401);
  });
});
