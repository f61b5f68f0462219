import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../../src/demo.js';
import { type Call, client, register, type SignedIn, startTestApp, type TestApp } from '../../support/app.js';

const MASTER = 'playground-master-key-0123456789';

interface LogRow {
  userId: string | null;
  keyId: string | null;
  orgId: string | null;
  model: string;
  status: number;
  stream: boolean;
  completionTokens: number;
}

describe('playground (chat as the signed-in user)', () => {
  let t: TestApp;
  let call: Call;
  let admin: SignedIn;
  let user: SignedIn;

  const chat = (token: string, body: Record<string, unknown>) =>
    fetch(`${t.url}/api/playground/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    t = await startTestApp({ env: { AIHUB_MASTER_KEY: MASTER } });
    call = client(t.url);
    admin = await register(call, 'pg-admin@example.com');
    user = await register(call, 'pg-user@example.com');
    await seedDemo(t.services);
  });
  afterAll(() => t.close());

  it('lists the chat models, not the embedding ones', async () => {
    const res = await call<{ data: Array<{ id: string }> }>('GET', '/api/playground/models', { token: user.token });
    expect(res.status).toBe(200);
    const ids = res.body.data.map((m) => m.id);
    expect(ids).toContain('mock-gpt');
    expect(ids).toContain('mock-reasoner');
    expect(ids).not.toContain('mock-embedding');
  });

  it('refuses callers without a session, and API keys (the playground is for the console)', async () => {
    expect((await call('GET', '/api/playground/models')).status).toBe(401);
    const noAuth = await fetch(`${t.url}/api/playground/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(noAuth.status).toBe(401);
    const key = await call<{ secret: string }>('POST', '/api/keys', { token: user.token, body: { name: 'k' } });
    const withKey = await chat(key.body.secret, { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
    expect(withKey.status).toBe(401);
    const master = await chat(MASTER, { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
    expect(master.status).toBe(400);
    expect(((await master.json()) as { error: { message: string } }).error.message).toMatch(/Sign in as a user/);
  });

  it('answers in the OpenAI shape and logs the request under the user, with no key', async () => {
    const res = await chat(user.token, { model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; choices: Array<{ message: { content: string } }> };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    // The record is written just after the answer is sent.
    let logs = await call<{ data: LogRow[] }>('GET', '/api/logs', { token: user.token });
    for (let i = 0; i < 50 && logs.body.data.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      logs = await call<{ data: LogRow[] }>('GET', '/api/logs', { token: user.token });
    }
    // Logged in the caller's current organization.
    expect(logs.body.data[0]).toMatchObject({
      userId: user.userId,
      keyId: null,
      orgId: 'org_default',
      model: 'mock-gpt',
      status: 200,
    });
    // Another user's own requests do not include it (the admin's whole-organization view does).
    const others = await call<{ data: LogRow[] }>('GET', '/api/logs?scope=own', { token: admin.token });
    expect(others.body.data.some((r) => r.userId === user.userId)).toBe(false);
  });

  it('streams reasoning, then the answer, then usage and [DONE]', async () => {
    const res = await chat(user.token, {
      model: 'mock-reasoner',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'think first' }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const firstReasoning = chunks.findIndex((c) => c.choices?.[0]?.delta?.reasoning_content);
    const firstContent = chunks.findIndex((c) => c.choices?.[0]?.delta?.content);
    expect(firstReasoning).toBeGreaterThanOrEqual(0);
    expect(firstContent).toBeGreaterThan(firstReasoning);
    expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(0);
  });

  it("applies the user's own quota", async () => {
    const capped = await register(call, 'pg-capped@example.com');
    const set = await call('PATCH', `/api/admin/limits/user/${capped.userId}`, {
      token: MASTER,
      body: { tokenQuota: 5, tokenQuotaPeriod: 'day' },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    // Admission refuses once the quota is used up (a request in progress may finish past it).
    const first = await chat(capped.token, { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
    expect(first.status).toBe(200);
    await first.text();
    const res = await chat(capped.token, { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('insufficient_quota');
  });

  it('rejects a bad body and an unknown model with clear errors', async () => {
    const bad = await chat(user.token, { model: 'mock-gpt' });
    expect(bad.status).toBe(400);
    const unknown = await chat(user.token, { model: 'nope', messages: [{ role: 'user', content: 'hi' }] });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
  });

  const post = (path: string, token: string, body: Record<string, unknown>) =>
    fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('Responses mode: streams a Responses API answer with the reasoning summary, stores nothing', async () => {
    const res = await post('/api/playground/responses', user.token, {
      model: 'mock-reasoner',
      input: [{ role: 'user', content: 'Why is the sky blue?' }],
      stream: true,
      reasoning: { summary: 'auto' },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('response.output_text.delta');
    expect(text).toContain('response.completed');
    const completed = text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { type: string; response?: { id: string } })
      .find((event) => event.type === 'response.completed');
    const id = completed?.response?.id as string;
    expect(id).toMatch(/^resp_/);
    // Not stored: no follow-up can find it.
    const rows = await t.database.handle.db.selectFrom('responses').select('id').where('id', '=', id).execute();
    expect(rows).toHaveLength(0);
    const follow = await post('/api/playground/responses', user.token, {
      model: 'mock-reasoner',
      input: 'again',
      previous_response_id: id,
    });
    expect(follow.status).toBe(400);
  });

  it('Images mode: an image generation as the user; no session, no answer', async () => {
    const noAuth = await fetch(`${t.url}/api/playground/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', prompt: 'x' }),
    });
    expect(noAuth.status).toBe(401);
    // The demo's mock channel makes no images: a clear 400 naming the channel, not a 5xx.
    const res = await post('/api/playground/images/generations', user.token, { model: 'mock-gpt', prompt: 'a fox' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /does not serve image generations/,
    );
    const missing = await post('/api/playground/images/generations', user.token, { model: 'mock-gpt' });
    expect(missing.status).toBe(400);
  });
});
