/**
 * POST /v1/moderations through the official `openai` SDK: OpenAI and OpenAI-compatible channels answer as
 * OpenAI does; a channel that has no moderation API is skipped (another target serves) or refused with a
 * 400 that does not count against it; the input's tokens are logged and priced.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import type { FakeUpstream } from '../../support/fakes/http.js';
import { startSurfaceFake } from '../../support/fakes/surface.js';
import {
  addChannel,
  addModel,
  type GatewayUnderTest,
  logOf,
  MASTER_KEY,
  openaiClient,
  startGateway,
} from '../../support/gateway.js';

describe.each(ENGINES)('POST /v1/moderations (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let openai: OpenAI;
  let upstream: FakeUpstream;
  const channels: Record<string, string> = {};
  const PRICE = { inputPrice: 2_000_000, outputPrice: 0 };

  beforeAll(async () => {
    gw = await startGateway(engine);
    openai = openaiClient(gw);
    upstream = await startSurfaceFake('openai');
    const o = await addChannel(gw, {
      name: 'mod-openai',
      type: 'openai',
      baseUrl: upstream.baseUrl,
      keys: [upstream.key],
    });
    const c = await addChannel(gw, {
      name: 'mod-compatible',
      type: 'openai-compatible',
      baseUrl: upstream.baseUrl,
      keys: [upstream.key],
    });
    const m = await addChannel(gw, { name: 'mod-mock', type: 'mock' });
    Object.assign(channels, { openai: o.id, compatible: c.id, mock: m.id });
    await addModel(gw, { name: 'mod-openai', ...PRICE, routes: [{ channelId: o.id, upstreamModel: 'omni-up' }] });
    await addModel(gw, { name: 'mod-compatible', ...PRICE, routes: [{ channelId: c.id, upstreamModel: 'guard' }] });
    await addModel(gw, { name: 'omni-moderation-latest', ...PRICE, routes: [{ channelId: o.id }] });
    await addModel(gw, { name: 'mod-mock-only', ...PRICE, routes: [{ channelId: m.id }] });
    // The mock (no moderation API) first: the request moves on to the OpenAI channel.
    await addModel(gw, {
      name: 'mod-mixed',
      ...PRICE,
      routes: [
        { channelId: m.id, priority: 10 },
        { channelId: o.id, upstreamModel: 'omni-up', priority: 1 },
      ],
    });
  });
  afterAll(async () => {
    await upstream?.close();
    await gw?.t.close();
  });

  it.each(['mod-openai', 'mod-compatible'])(
    '%s: the SDK gets OpenAI’s moderation object; the input is logged and priced',
    async (model) => {
      const { data, response } = await openai.moderations
        .create({ model, input: 'I want to kill them.' })
        .withResponse();
      expect(data.results).toHaveLength(1);
      expect(data.results[0]?.flagged).toBe(true);
      expect(data.results[0]?.categories.violence).toBe(true);
      expect(data.id).toMatch(/^modr-/);
      const sent = upstream.last();
      expect(sent.path).toBe('/v1/moderations');
      expect(sent.headers.authorization).toBe(`Bearer ${upstream.key}`);
      expect(sent.body).toEqual({ model: model === 'mod-openai' ? 'omni-up' : 'guard', input: 'I want to kill them.' });
      const row = await logOf(gw.t, response.headers.get('x-request-id'));
      expect(row).toMatchObject({ status: 200, endpoint: 'moderations', model, estimated: true, completionTokens: 0 });
      // "I want to kill them." is 6 tokens (o200k); billed at the input price.
      expect(row.promptTokens).toBe(6);
      expect(row.costMicros).toBe(Math.ceil((6 * PRICE.inputPrice) / 1_000_000));
    },
  );

  it('several inputs give one result each; without a model the request goes to omni-moderation-latest', async () => {
    const data = await openai.moderations.create({ input: ['hello there', 'I will kill the process'] });
    expect(data.results.map((r) => r.flagged)).toEqual([false, true]);
    expect(upstream.last().body).toMatchObject({ model: 'omni-moderation-latest' });
  });

  it('a channel without a moderation API is passed over for the next target', async () => {
    const { data, response } = await openai.moderations
      .create({ model: 'mod-mixed', input: 'fine text' })
      .withResponse();
    expect(data.results[0]?.flagged).toBe(false);
    const row = await logOf(gw.t, response.headers.get('x-request-id'));
    expect(row.channelId).toBe(channels.openai);
    expect(row.attempts.map((a) => a.channelId)).toEqual([channels.mock]);
  });

  it('a model served only by such channels is a 400 naming the channel, not counted against it', async () => {
    const error = await openai.moderations.create({ model: 'mod-mock-only', input: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('does not serve moderations');
    const res = await gw.call<{ health: { lastError: string | null } }>('GET', `/api/admin/channels/${channels.mock}`, {
      token: MASTER_KEY,
    });
    expect(res.body.health.lastError).toBeNull();
  });

  it('bad input is a 400 in OpenAI shape naming the field; nothing is sent', async () => {
    const before = upstream.requests.length;
    for (const [body, param] of [
      [{ model: 'mod-openai' }, 'input'],
      [{ model: 'mod-openai', input: 5 }, 'input'],
      [{ model: 'mod-openai', input: [] }, 'input'],
      [{ model: 7, input: 'x' }, 'model'],
    ] as const) {
      const res = await fetch(`${gw.url}/v1/moderations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', param } });
    }
    expect(upstream.requests.length).toBe(before);
  });

  it('no key and an unknown model are refused in OpenAI shape', async () => {
    const noKey = await openaiClient(gw, 'sk-nope')
      .moderations.create({ model: 'mod-openai', input: 'x' })
      .catch((e: unknown) => e);
    expect(noKey).toBeInstanceOf(OpenAI.AuthenticationError);
    const unknown = await openai.moderations.create({ model: 'nope', input: 'x' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });
});
