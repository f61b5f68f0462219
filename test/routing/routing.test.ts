import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Call, client, register, startTestApp, type TestApp } from '../support/app.js';
import { ProgrammableUpstream } from '../support/fakes/programmable-upstream.js';

interface Channel {
  id: string;
  status: string;
  disabledReason: string | null;
  health: { status: string; lastError: string | null; successRate: number | null };
}

describe('routing, failover and resilience', () => {
  let t: TestApp;
  let call: Call;
  let admin: string;
  let key: string;
  const a = new ProgrammableUpstream();
  const b = new ProgrammableUpstream();
  let chA: string;
  let chB: string;
  let n = 0;

  const chat = (model: string, extra: Record<string, unknown> = {}) =>
    call<{ choices: Array<{ message: { content: string } }>; error?: { code: string } }>(
      'POST',
      '/v1/chat/completions',
      {
        token: key,
        body: { model, messages: [{ role: 'user', content: 'hi' }], ...extra },
      },
    );

  async function logsFor(model: string) {
    await t.services.recorder.flush();
    const res = await call<{
      data: Array<{
        channelId: string;
        status: number;
        attempts: Array<{ channelId: string; status: number }>;
        costMicros: number;
        errorCode: string | null;
        estimated: boolean;
      }>;
    }>('GET', `/api/admin/logs?model=${model}&limit=100`, { token: admin });
    return res.body.data;
  }

  /** A fresh model routed to A (tried first) then B. */
  async function model(
    opts: { routes?: Array<{ channelId: string; priority?: number }>; strategy?: string; fallbacks?: string[] } = {},
  ): Promise<string> {
    const name = `m${++n}`;
    const res = await call('POST', '/api/admin/models', {
      token: admin,
      body: {
        name,
        inputPrice: 1_000_000,
        outputPrice: 2_000_000,
        routes: opts.routes ?? [
          { channelId: chA, priority: 10 },
          { channelId: chB, priority: 0 },
        ],
        ...(opts.strategy ? { strategy: opts.strategy } : {}),
        ...(opts.fallbacks ? { fallbacks: opts.fallbacks } : {}),
      },
    });
    expect(res.status).toBe(201);
    return name;
  }

  const channel = async (id: string) =>
    (await call<Channel>('GET', `/api/admin/channels/${id}`, { token: admin })).body;

  beforeAll(async () => {
    await a.start();
    await b.start();
    t = await startTestApp();
    call = client(t.url);
    admin = (await register(call, 'routing-admin@example.com')).token;
    await call('PATCH', '/api/admin/settings', {
      token: admin,
      body: { healthCheckIntervalSeconds: 0, breakerFailureThreshold: 50 },
    });
    const timeouts = { firstByteMs: 300, idleMs: 300, totalMs: 5000 };
    chA = (
      await call<{ id: string }>('POST', '/api/admin/channels', {
        token: admin,
        body: { name: 'A', type: 'openai', baseUrl: a.url, keys: ['sk-a-1'], options: { timeouts } },
      })
    ).body.id;
    chB = (
      await call<{ id: string }>('POST', '/api/admin/channels', {
        token: admin,
        body: { name: 'B', type: 'openai', baseUrl: b.url, keys: ['sk-b-1'], options: { timeouts } },
      })
    ).body.id;
    key = (await call<{ secret: string }>('POST', '/api/keys', { token: admin, body: { name: 'routing' } })).body
      .secret;
  });

  afterAll(async () => {
    await t?.close();
    await a.close();
    await b.close();
  });

  beforeEach(async () => {
    a.always({ kind: 'ok', text: 'from A' });
    b.always({ kind: 'ok', text: 'from B' });
    // Every test starts with both channels enabled and healthy.
    for (const id of [chA, chB])
      await call('PATCH', `/api/admin/channels/${id}`, { token: admin, body: { enabled: true } });
  });

  it.each([
    ['a 500', { kind: 'status', status: 500 } as const],
    ['a 503', { kind: 'status', status: 503 } as const],
    ['a connection reset before the headers', { kind: 'reset' } as const],
    ['a slow first byte', { kind: 'ok', delayMs: 1000 } as const],
    ['a hang', { kind: 'hang' } as const],
  ])('fails over to the next channel on %s, non-stream and stream, billed once', async (_what, behaviour) => {
    const name = await model();
    a.always(behaviour);
    const res = await chat(name);
    expect(res.status).toBe(200);
    expect(res.body.choices[0]?.message.content).toBe('from B');

    const streamed = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: name, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(streamed.status).toBe(200);
    const text = await streamed.text();
    expect(text).toContain('"content":"from "');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text).not.toContain('"error"');

    const rows = await logsFor(name);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.channelId).toBe(chB);
      expect(row.status).toBe(200);
      expect(row.attempts).toHaveLength(1);
      expect(row.attempts[0]?.channelId).toBe(chA);
      expect(row.costMicros).toBe(10 * 1 + 5 * 2);
    }
  });

  it('honours 429 Retry-After: the key rests and the next request goes straight to the other channel', async () => {
    const name = await model();
    a.next({ kind: 'status', status: 429, retryAfter: '30' });
    expect((await chat(name)).body.choices[0]?.message.content).toBe('from B');
    const before = a.chatCount;
    expect((await chat(name)).body.choices[0]?.message.content).toBe('from B');
    expect(a.chatCount).toBe(before);
  });

  it('passes 429 and its Retry-After to the client when no channel can serve', async () => {
    const name = await model({ routes: [{ channelId: chA }] });
    a.next({ kind: 'status', status: 429, retryAfter: '7' });
    const res = await chat(name);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body.error?.code).toBe('rate_limit_exceeded');
  });

  it('never retries a client error (400)', async () => {
    const name = await model();
    a.next({
      kind: 'status',
      status: 400,
      body: { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } },
    });
    const before = b.chatCount;
    const res = await chat(name);
    expect(res.status).toBe(400);
    expect(b.chatCount).toBe(before);
  });

  it('reports a failure after the stream started as an error event, billing what was produced', async () => {
    const name = await model({ routes: [{ channelId: chA }] });
    a.next({ kind: 'stream-then-stall', chunks: 3 });
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: name, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    expect(text).toContain('part2');
    expect(text).toContain('"code":"upstream_timeout"');
    const [row] = await logsFor(name);
    expect(row?.status).toBe(504);
    expect(row?.estimated).toBe(true);
    expect(row?.costMicros).toBeGreaterThan(0);
  });

  it('opens the breaker after repeated failures, skips the channel, and lets a trial through after the cooldown', async () => {
    await call('PATCH', '/api/admin/settings', {
      token: admin,
      body: { breakerFailureThreshold: 2, breakerCooldownSeconds: 1 },
    });
    try {
      const name = await model();
      a.always({ kind: 'status', status: 500 });
      await chat(name);
      await chat(name);
      const tried = a.chatCount;
      expect((await chat(name)).body.choices[0]?.message.content).toBe('from B');
      expect(a.chatCount).toBe(tried);
      const health = (await channel(chA)).health;
      expect(health.status).toBe('down');
      expect(health.lastError).toContain('500');

      a.always({ kind: 'ok', text: 'from A' });
      await new Promise((r) => setTimeout(r, 1100));
      expect((await chat(name)).body.choices[0]?.message.content).toBe('from A');
      expect((await channel(chA)).health.status).toBe('healthy');
    } finally {
      await call('PATCH', '/api/admin/settings', {
        token: admin,
        body: { breakerFailureThreshold: 50, breakerCooldownSeconds: 30 },
      });
    }
  });

  it('disables a channel whose key the upstream rejects, and a passing health check brings it back', async () => {
    const name = await model();
    a.always({
      kind: 'status',
      status: 401,
      body: {
        error: {
          message: 'Incorrect API key provided: sk-a-1',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      },
    });
    const res = await chat(name);
    expect(res.body.choices[0]?.message.content).toBe('from B');
    await new Promise((r) => setTimeout(r, 50));
    const disabled = await channel(chA);
    expect(disabled.status).toBe('disabled');
    expect(disabled.disabledReason).toMatch(/^auto: upstream rejected the provider key/);
    expect(JSON.stringify(disabled)).not.toContain('sk-a-1');
    const audit = await call<{ data: unknown[] }>(
      'GET',
      `/api/admin/audit?action=channel.auto_disable&targetId=${chA}`,
      { token: admin },
    );
    expect(audit.body.data.length).toBeGreaterThan(0);

    // Still broken: the probe fails and the channel stays off.
    await t.services.healthChecker.runOnce();
    expect((await channel(chA)).status).toBe('disabled');
    // Fixed upstream: the probe passes and the channel is back.
    a.always({ kind: 'ok', text: 'from A' });
    await t.services.healthChecker.runOnce();
    expect((await channel(chA)).status).toBe('active');
    expect((await chat(name)).body.choices[0]?.message.content).toBe('from A');
  });

  it('does not re-enable a channel an admin disabled', async () => {
    await call('PATCH', `/api/admin/channels/${chA}`, { token: admin, body: { enabled: false } });
    await t.services.healthChecker.runOnce();
    expect((await channel(chA)).status).toBe('disabled');
  });

  it('falls back to another model when every route of the first failed, at the fallback price', async () => {
    const backup = `backup${n}`;
    await call('POST', '/api/admin/models', {
      token: admin,
      body: { name: backup, inputPrice: 3_000_000, outputPrice: 3_000_000, routes: [{ channelId: chB }] },
    });
    const name = await model({ routes: [{ channelId: chA }], fallbacks: [backup] });
    a.always({ kind: 'status', status: 502 });
    const res = await chat(name);
    expect(res.status).toBe(200);
    expect(res.body.choices[0]?.message.content).toBe('from B');
    const [row] = await logsFor(name);
    expect(row?.channelId).toBe(chB);
    expect(row?.costMicros).toBe(15 * 3);
  });

  it('alternates with round_robin and tells admins the serving channel when asked', async () => {
    await call('PATCH', '/api/admin/settings', { token: admin, body: { exposeChannelHeader: true } });
    const name = await model({ routes: [{ channelId: chA }, { channelId: chB }], strategy: 'round_robin' });
    const served: string[] = [];
    for (let i = 0; i < 4; i++) served.push((await chat(name)).headers.get('x-aihub-channel') ?? '');
    expect(served).toEqual([chA, chB, chA, chB]);
    await call('PATCH', '/api/admin/settings', { token: admin, body: { exposeChannelHeader: false } });
    expect((await chat(name)).headers.get('x-aihub-channel')).toBeNull();
  });

  it("skips a channel at its provider's rate limit instead of sending a request that would get 429", async () => {
    const capped = await call<{ id: string }>('POST', '/api/admin/channels', {
      token: admin,
      body: { name: `capped${n}`, type: 'openai', baseUrl: a.url, keys: ['sk-a-2'], options: { limits: { rpm: 2 } } },
    });
    const both = await model({ routes: [{ channelId: capped.body.id, priority: 10 }, { channelId: chB }] });
    const before = a.chatCount;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await chat(both)).body.choices[0]?.message.content);
    expect(answers).toEqual(['from A', 'from A', 'from B']);
    expect(a.chatCount - before).toBe(2);

    const alone = await model({ routes: [{ channelId: capped.body.id }] });
    const refused = await chat(alone);
    expect(refused.status).toBe(429);
    expect(refused.body.error?.code).toBe('rate_limit_exceeded');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(a.chatCount - before).toBe(2);
  });

  it('skips a channel whose provider token limit a request would exceed, without using up its request limit', async () => {
    const capped = await call<{ id: string }>('POST', '/api/admin/channels', {
      token: admin,
      body: {
        name: `tpm-capped${n}`,
        type: 'openai',
        baseUrl: a.url,
        keys: ['sk-a-3'],
        options: { limits: { rpm: 2, tpm: 150 } },
      },
    });
    const both = await model({ routes: [{ channelId: capped.body.id, priority: 10 }, { channelId: chB }] });
    // Each request takes its prompt estimate plus max_tokens (100) from the channel's token window: the first
    // fits, the second would take it past 150 and goes to B.
    const answers = [];
    for (let i = 0; i < 2; i++) answers.push((await chat(both, { max_tokens: 100 })).body.choices[0]?.message.content);
    expect(answers).toEqual(['from A', 'from B']);
    // The refused request took no request from the channel's rpm of 2: a small one still goes to A.
    expect((await chat(both, { max_tokens: 1 })).body.choices[0]?.message.content).toBe('from A');
  });

  it('answers 503 no_available_channel when every channel of a model is disabled', async () => {
    const name = await model({ routes: [{ channelId: chA }] });
    await call('PATCH', `/api/admin/channels/${chA}`, { token: admin, body: { enabled: false } });
    const res = await chat(name);
    expect(res.status).toBe(503);
    expect(res.body.error?.code).toBe('no_available_channel');
  });
});
