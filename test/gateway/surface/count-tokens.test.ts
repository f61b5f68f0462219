/**
 * POST /v1/messages/count_tokens through the official `@anthropic-ai/sdk` (`messages.countTokens`): an
 * Anthropic channel is asked (the client's body as it came, model renamed), other channels count locally;
 * counting is logged and never billed; errors come in Anthropic's shape.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import type { FakeUpstream } from '../../support/fakes/http.js';
import { FAKE_INPUT_TOKENS, startSurfaceFake } from '../../support/fakes/surface.js';
import {
  addChannel,
  addModel,
  anthropicClient,
  type GatewayUnderTest,
  logOf,
  MASTER_KEY,
  PRICES,
  startGateway,
} from '../../support/gateway.js';

describe.each(ENGINES)('POST /v1/messages/count_tokens (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let anthropic: Anthropic;
  let claude: FakeUpstream;
  let openai: FakeUpstream;
  const channels: Record<string, string> = {};

  const health = async (id: string | undefined) => {
    const res = await gw.call<{ health: { lastError: string | null } }>('GET', `/api/admin/channels/${id}`, {
      token: MASTER_KEY,
    });
    return res.body.health;
  };

  beforeAll(async () => {
    gw = await startGateway(engine);
    anthropic = anthropicClient(gw);
    claude = await startSurfaceFake('anthropic');
    openai = await startSurfaceFake('openai');
    const a = await addChannel(gw, {
      name: 'ct-anthropic',
      type: 'anthropic',
      baseUrl: claude.baseUrl,
      keys: [claude.key],
    });
    const o = await addChannel(gw, { name: 'ct-openai', type: 'openai', baseUrl: openai.baseUrl, keys: [openai.key] });
    const m = await addChannel(gw, { name: 'ct-mock', type: 'mock' });
    Object.assign(channels, { anthropic: a.id, openai: o.id, mock: m.id });
    await addModel(gw, {
      name: 'claude-counted',
      ...PRICES,
      routes: [{ channelId: a.id, upstreamModel: 'claude-up' }],
    });
    await addModel(gw, { name: 'claude-gone', ...PRICES, routes: [{ channelId: a.id, upstreamModel: 'claude-gone' }] });
    await addModel(gw, { name: 'gpt-counted', ...PRICES, routes: [{ channelId: o.id, upstreamModel: 'gpt-4o' }] });
    await addModel(gw, { name: 'mock-counted', ...PRICES, routes: [{ channelId: m.id }] });
  });
  afterAll(async () => {
    await claude?.close();
    await openai?.close();
    await gw?.t.close();
  });

  const body = (model: string): Anthropic.MessageCountTokensParams => ({
    model,
    system: 'You are a terse assistant.',
    messages: [{ role: 'user', content: 'Hello, Claude. How many tokens is this sentence?' }],
  });

  it('an Anthropic channel is asked: the body goes up as it came (model renamed), its count comes back; no cost', async () => {
    const before = claude.requests.length;
    const { data, response } = await anthropic.messages
      .countTokens(body('claude-counted'), { headers: { 'anthropic-beta': 'token-counting-2024-11-01' } })
      .withResponse();
    expect(data).toEqual({ input_tokens: FAKE_INPUT_TOKENS });
    expect(claude.requests.length).toBe(before + 1);
    const sent = claude.last();
    expect(sent.path).toBe('/v1/messages/count_tokens');
    expect(sent.headers['x-api-key']).toBe(claude.key);
    expect(sent.headers['anthropic-beta']).toBe('token-counting-2024-11-01');
    expect(sent.body).toEqual({ ...body('claude-up'), model: 'claude-up' });
    const row = await logOf(gw.t, response.headers.get('x-request-id'));
    expect(row).toMatchObject({
      status: 200,
      endpoint: 'count_tokens',
      model: 'claude-counted',
      channelId: channels.anthropic,
      promptTokens: 0,
      completionTokens: 0,
      costMicros: 0,
    });
  });

  it.each(['gpt-counted', 'mock-counted'])(
    'a non-Anthropic channel (%s) counts locally, sending nothing',
    async (model) => {
      const before = openai.requests.length;
      const short = await anthropic.messages.countTokens(body(model));
      const long = await anthropic.messages.countTokens({
        ...body(model),
        messages: [{ role: 'user', content: 'Hello, Claude. '.repeat(200) }],
      });
      expect(openai.requests.length).toBe(before);
      // "You are a terse assistant." + the question: ~18 tokens of text and a few of framing.
      expect(short.input_tokens).toBeGreaterThan(15);
      expect(short.input_tokens).toBeLessThan(40);
      expect(long.input_tokens).toBeGreaterThan(600);
    },
  );

  it('tools count too', async () => {
    const plain = await anthropic.messages.countTokens(body('gpt-counted'));
    const withTools = await anthropic.messages.countTokens({
      ...body('gpt-counted'),
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather for a city, in celsius or fahrenheit',
          input_schema: { type: 'object', properties: { city: { type: 'string' } } },
        },
      ],
    });
    expect(withTools.input_tokens).toBeGreaterThan(plain.input_tokens + 10);
  });

  it('an unknown model is a 404 in Anthropic shape, logged', async () => {
    const error = await anthropic.messages.countTokens(body('no-such-model')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    const e = error as InstanceType<typeof Anthropic.NotFoundError>;
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const row = await logOf(gw.t, e.headers?.get('x-request-id'));
    expect(row).toMatchObject({ status: 404, endpoint: 'count_tokens', errorCode: 'model_not_found' });
  });

  it('bad input is a 400 in Anthropic shape; nothing is sent and the channel is not blamed', async () => {
    const before = claude.requests.length;
    const res = await fetch(`${gw.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gw.key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-counted', messages: 'hello' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'messages: Input should be a valid list' },
    });
    expect(claude.requests.length).toBe(before);
  });

  it("the upstream's 400 reaches the client in Anthropic shape without counting against the channel", async () => {
    // Anthropic refuses max_tokens on count_tokens; the hub forwards the body as it came.
    const res = await fetch(`${gw.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gw.key },
      body: JSON.stringify({ ...body('claude-counted'), max_tokens: 10 }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') },
    });
    expect(await health(channels.anthropic)).toMatchObject({ lastError: null });
  });

  it('no key, a wrong key, and a key limited to other models are refused in Anthropic shape', async () => {
    const noKey = await fetch(`${gw.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body('claude-counted')),
    });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const wrong = await anthropicClient(gw, 'sk-wrong')
      .messages.countTokens(body('claude-counted'))
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
    const limited = await gw.call<{ secret: string; key: { id: string } }>('POST', '/api/keys', {
      token: gw.admin.token,
      body: { name: 'only-gpt', allowedModels: ['gpt-counted'] },
    });
    expect(limited.status).toBe(201);
    const refused = await anthropicClient(gw, limited.body.secret)
      .messages.countTokens(body('claude-counted'))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.PermissionDeniedError);
  });
});
