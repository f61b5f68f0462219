/**
 * Request and response bodies in the request log (settings `logBodies`, `logBodyMaxChars`): off by default;
 * `errors` keeps the bodies of failed requests only; `all` keeps every request's, the answer exactly as the
 * client got it (JSON, or a stream's SSE text); long bodies are cut. Lists say whether a row has bodies;
 * GET /api/logs/{id} (own requests) and GET /api/admin/logs/{id} (any) return them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LogDetail, LogEntry } from '../../src/modules/usage/logs.js';
import { register, type SignedIn } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import { start as startOpenAi } from '../support/fakes/openai.js';
import {
  addChannel,
  addModel,
  createKey,
  type GatewayUnderTest,
  postRaw,
  rawLogRow,
  type SseResult,
  startGateway,
  uniqueEmail,
} from '../support/gateway.js';

describe.each(ENGINES)('request and response bodies in the log (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let fake: FakeUpstream;
  let user: SignedIn;
  let userKey: { secret: string; id: string };
  let other: SignedIn;

  const settings = async (patch: Record<string, unknown>) => {
    const res = await gw.call('PATCH', '/api/admin/settings', { token: gw.admin.token, body: patch });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const chat = (body: Record<string, unknown>, key = userKey.secret): Promise<SseResult> =>
    postRaw(`${gw.url}/v1/chat/completions`, body, { authorization: `Bearer ${key}` });
  const detail = async (id: string | null, token = user.token) => {
    const res = await gw.call<LogDetail>('GET', `/api/logs/${id}`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    gw = await startGateway(engine);
    fake = await startOpenAi({ flavor: 'openai' });
    user = await register(gw.call, uniqueEmail('bodies-user'));
    userKey = await createKey(gw.call, user.token, 'bodies key');
    other = await register(gw.call, uniqueEmail('bodies-other'));
    const openai = await addChannel(gw, {
      name: 'bodies-openai',
      type: 'openai',
      baseUrl: fake.baseUrl,
      keys: [fake.key],
    });
    const mock = await addChannel(gw, { name: 'bodies-mock', type: 'mock' });
    await addModel(gw, { name: 'bodies-gpt', routes: [{ channelId: openai.id, upstreamModel: 'gpt-4o-mini' }] });
    await addModel(gw, { name: 'bodies-mock', routes: [{ channelId: mock.id, upstreamModel: 'mock-gpt' }] });
  });
  afterAll(async () => {
    await fake?.close();
    await gw?.t.close();
  });
  beforeEach(async () => {
    fake.setScenario('text');
    await settings({ logBodies: 'off', logBodyMaxChars: 16_384 });
  });

  it('keeps no bodies by default', async () => {
    const fresh = await gw.call<Record<string, unknown>>('GET', '/api/admin/settings', { token: gw.admin.token });
    expect(fresh.body).toMatchObject({ logBodies: 'off', logBodyMaxChars: 16_384 });
    const res = await chat({ model: 'bodies-gpt', messages: [{ role: 'user', content: 'nothing kept' }] });
    expect(res.status).toBe(200);
    const row = await detail(res.requestId);
    expect(row).toMatchObject({ hasBodies: false, requestBody: null, responseBody: null, status: 200 });
  });

  it('all: the request as sent and the answer exactly as the client got it, streamed or not', async () => {
    await settings({ logBodies: 'all' });
    const body = { model: 'bodies-gpt', messages: [{ role: 'user', content: 'Say hello, 你好 🌍' }], temperature: 0.2 };
    const plain = await chat(body);
    expect(plain.status).toBe(200);
    const one = await detail(plain.requestId);
    expect(one.hasBodies).toBe(true);
    expect(JSON.parse(one.requestBody ?? '')).toEqual(body);
    expect(one.responseBody).toBe(plain.text);

    const streamed = await chat({ ...body, stream: true });
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain('data: [DONE]');
    const two = await detail(streamed.requestId);
    expect(JSON.parse(two.requestBody ?? '')).toEqual({ ...body, stream: true });
    expect(two.responseBody).toBe(streamed.text);

    // The Anthropic protocol too, and the list says which rows have bodies (without carrying them).
    const message = { model: 'bodies-mock', max_tokens: 50, messages: [{ role: 'user', content: 'anthropic hi' }] };
    const anthropic = await postRaw(`${gw.url}/v1/messages`, message, { 'x-api-key': userKey.secret });
    expect(anthropic.status).toBe(200);
    const three = await detail(anthropic.requestId);
    expect(JSON.parse(three.requestBody ?? '')).toEqual(message);
    expect(JSON.parse(three.responseBody ?? '')).toEqual(JSON.parse(anthropic.text));

    const list = await gw.call<{ data: LogEntry[] }>('GET', '/api/logs?limit=10', { token: user.token });
    const listed = list.body.data.find((e) => e.id === plain.requestId);
    expect(listed?.hasBodies).toBe(true);
    expect(listed).not.toHaveProperty('requestBody');
    expect(listed).not.toHaveProperty('responseBody');
  });

  it('errors: bodies of failed requests only, with the error the client got', async () => {
    await settings({ logBodies: 'errors' });
    const ok = await chat({ model: 'bodies-gpt', messages: [{ role: 'user', content: 'fine' }] });
    expect(ok.status).toBe(200);
    expect(await detail(ok.requestId)).toMatchObject({ hasBodies: false, requestBody: null, responseBody: null });

    fake.setScenario('server_error');
    const failed = await chat({ model: 'bodies-gpt', messages: [{ role: 'user', content: 'this one fails' }] });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const row = await detail(failed.requestId);
    expect(row.hasBodies).toBe(true);
    expect(JSON.parse(row.requestBody ?? '').messages[0].content).toBe('this one fails');
    expect(JSON.parse(row.responseBody ?? '')).toEqual(JSON.parse(failed.text));

    // Refused before any upstream (unknown model): logged with its bodies as well.
    const unknown = await chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'who?' }] });
    expect(unknown.status).toBe(404);
    const refused = await detail(unknown.requestId);
    expect(JSON.parse(refused.responseBody ?? '')).toEqual(JSON.parse(unknown.text));
  });

  it('cuts long bodies at logBodyMaxChars and says so', async () => {
    await settings({ logBodies: 'all', logBodyMaxChars: 256 });
    const long = 'x'.repeat(2000);
    const res = await chat({ model: 'bodies-mock', messages: [{ role: 'user', content: long }], stream: true });
    expect(res.status).toBe(200);
    const row = await detail(res.requestId);
    expect(row.requestBody).toMatch(/…\[cut at 256 characters\]$/);
    expect(row.requestBody?.length).toBe(256 + '…[cut at 256 characters]'.length);
    expect(row.requestBody?.startsWith('{"model":"bodies-mock"')).toBe(true);
    // The mock echoes a long answer: the stream's text is cut the same way.
    expect(res.text.length).toBeGreaterThan(256);
    expect(row.responseBody).toBe(`${res.text.slice(0, 256)}…[cut at 256 characters]`);
  });

  it('only the owner and admins read bodies; secrets never land in them', async () => {
    await settings({ logBodies: 'all' });
    const res = await chat({ model: 'bodies-gpt', messages: [{ role: 'user', content: 'private words' }] });
    const id = res.requestId as string;
    // Another user: as missing as an unknown id. No token: 401. A user on the admin route: 403.
    expect((await gw.call('GET', `/api/logs/${id}`, { token: other.token })).status).toBe(404);
    expect((await gw.call('GET', '/api/logs/req_doesnotexist', { token: user.token })).status).toBe(404);
    expect((await gw.call('GET', `/api/logs/${id}`)).status).toBe(401);
    expect((await gw.call('GET', `/api/admin/logs/${id}`, { token: user.token })).status).toBe(403);
    const asAdmin = await gw.call<LogDetail>('GET', `/api/admin/logs/${id}`, { token: gw.admin.token });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.requestBody).toContain('private words');
    expect(asAdmin.body.userId).toBe(user.userId);

    const raw = JSON.stringify(await rawLogRow(gw.t, id));
    expect(raw).not.toContain(userKey.secret);
    expect(raw).not.toContain(fake.key);
    // The CSV export leaves bodies out.
    const csv = await gw.call<string>('GET', '/api/logs/export.csv', { token: user.token });
    expect(csv.status).toBe(200);
    expect(csv.body.split('\n')[0]).not.toContain('body');
    expect(csv.body).not.toContain('private words');
  });

  it('refuses invalid settings', async () => {
    for (const patch of [{ logBodies: 'some' }, { logBodyMaxChars: 10 }, { logBodyMaxChars: 2_000_000 }]) {
      const res = await gw.call('PATCH', '/api/admin/settings', { token: gw.admin.token, body: patch });
      expect(res.status, JSON.stringify(patch)).toBe(400);
    }
    const user403 = await gw.call('PATCH', '/api/admin/settings', { token: user.token, body: { logBodies: 'all' } });
    expect(user403.status).toBe(403);
  });
});
