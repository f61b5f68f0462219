/**
 * The Responses API through AI Hub with the official `openai` SDK (`responses.create`, `responses.stream`,
 * `responses.retrieve`), over every channel type: OpenAI channels pass through to the fake's /v1/responses,
 * every other type is translated to its own wire format. Checks answers, the event sequence, usage and cost
 * in the request log, stored responses and a function-calling loop over `previous_response_id`.
 */
import type OpenAI from 'openai';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import { type FakeUpstream, fixtureJson } from '../../support/fakes/http.js';
import {
  addChannel,
  addModel,
  expectedCost,
  type GatewayUnderTest,
  logOf,
  openaiClient,
  PRICES,
  startGateway,
} from '../../support/gateway.js';
import { PROVIDER_CASES, type ProviderCase } from '../../support/providers.js';

const model = (c: ProviderCase) => `resp-${c.type}`;
const WEATHER = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  parameters: {
    type: 'object',
    properties: { location: { type: 'string' }, city: { type: 'string' } },
    required: [],
    additionalProperties: false,
  },
  strict: false,
};
const FIXTURE_TEXT = (
  fixtureJson('openai', 'responses-text.json').output as Array<{ content: Array<{ text: string }> }>
)[0]?.content[0]?.text;

/** The text a case answers to a plain question (the fake's script; the mock's answer is not fixed). */
function expectedText(c: ProviderCase): string | undefined {
  if (c.type === 'openai') return FIXTURE_TEXT;
  return c.answers?.text.content ?? undefined;
}

/** The text of a response's message items (the SDK adds `output_text` to created responses, not streamed ones). */
function textOf(response: Response): string {
  return response.output
    .flatMap((item) => (item.type === 'message' ? item.content : []))
    .map((part) => (part.type === 'output_text' ? part.text : ''))
    .join('');
}

async function requestIdOf<T>(promise: { withResponse(): Promise<{ data: T; response: globalThis.Response }> }) {
  const { data, response } = await promise.withResponse();
  return { data, requestId: response.headers.get('x-request-id') };
}

describe.each(ENGINES)('Responses API through AI Hub (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let openai: OpenAI;
  const fakes = new Map<string, FakeUpstream | undefined>();

  beforeAll(async () => {
    gw = await startGateway(engine);
    openai = openaiClient(gw);
    for (const c of PROVIDER_CASES) {
      const fake = await c.start();
      fakes.set(c.type, fake);
      const channel = await addChannel(gw, c.channel(fake, `rch-${c.type}`));
      await addModel(gw, {
        name: model(c),
        ...PRICES,
        routes: [{ channelId: channel.id, upstreamModel: c.chatModel }],
      });
    }
  });
  afterAll(async () => {
    for (const fake of fakes.values()) await fake?.close();
    await gw?.t.close();
  });

  describe.each(PROVIDER_CASES)('$type channel', (c) => {
    const fake = () => fakes.get(c.type);
    const use = (scenario: Parameters<FakeUpstream['setScenario']>[0]) => fake()?.setScenario(scenario);

    it('answers responses.create with a response object, and logs usage and cost', async () => {
      use('text');
      const { data, requestId } = await requestIdOf(
        openai.responses.create({ model: model(c), input: 'What is the weather in San Francisco?' }),
      );
      expect(data.object).toBe('response');
      expect(data.id).toMatch(/^resp_/);
      expect(data.status).toBe('completed');
      const text = expectedText(c);
      if (text !== undefined) expect(data.output_text).toBe(text);
      else expect(data.output_text.length).toBeGreaterThan(0);
      expect(data.usage?.input_tokens).toBeGreaterThan(0);
      if (c.type === 'openai') {
        // Pass-through: the upstream got the Responses body with its own model name.
        expect(fake()?.last().path).toBe('/v1/responses');
        expect(fake()?.last().body).toMatchObject({
          model: c.chatModel,
          input: 'What is the weather in San Francisco?',
        });
      } else if (fake()) expect(fake()?.last().path).not.toBe('/v1/responses');
      const log = await logOf(gw.t, requestId);
      expect(log).toMatchObject({ endpoint: 'responses', status: 200, model: model(c) });
      const usage = data.usage;
      if (!usage) throw new Error('no usage');
      expect(log.promptTokens).toBe(usage.input_tokens);
      expect(log.completionTokens).toBe(usage.output_tokens);
      expect(log.costMicros).toBe(
        expectedCost({
          prompt: usage.input_tokens,
          completion: usage.output_tokens,
          cached: usage.input_tokens_details.cached_tokens,
        }),
      );
    });

    it('streams the Responses events in order, each with its sequence number, and no [DONE]', async () => {
      use('text');
      const stream = openai.responses.stream({ model: model(c), input: 'What is the weather in San Francisco?' });
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const final = await stream.finalResponse();
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      const types = events.map((e) => e.type);
      expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
      expect(types.at(-1)).toBe('response.completed');
      for (const type of [
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
      ])
        expect(types).toContain(type);
      const text = expectedText(c);
      if (text !== undefined) expect(textOf(final)).toBe(text);
      else expect(textOf(final).length).toBeGreaterThan(0);
      expect(final.usage?.output_tokens).toBeGreaterThan(0);
    });

    it('streams a function call as output_item / function_call_arguments events', async () => {
      use('tool_call');
      const stream = openai.responses.stream({
        model: model(c),
        input: "What's the weather like in Paris today? Use get_weather.",
        tools: [WEATHER],
      });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      const final = await stream.finalResponse();
      use('text');
      const calls = final.output.flatMap((item) => (item.type === 'function_call' ? [item] : []));
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) {
        expect(call.name).toBe('get_weather');
        expect(() => JSON.parse(call.arguments)).not.toThrow();
        expect(call.call_id.length).toBeGreaterThan(0);
      }
      expect(types).toContain('response.function_call_arguments.done');
      expect(types.at(-1)).toBe('response.completed');
    });

    it.runIf(c.type !== 'openai' && c.answers?.reasoning.reasoning)(
      'turns reasoning into a reasoning item with its summary',
      async () => {
        use('reasoning');
        const stream = openai.responses.stream({
          model: model(c),
          input: 'Think, then answer.',
          reasoning: { effort: 'low' },
        });
        const types: string[] = [];
        for await (const event of stream) types.push(event.type);
        const final = await stream.finalResponse();

        const reasoning = final.output.find((item) => item.type === 'reasoning');
        if (reasoning?.type !== 'reasoning') throw new Error(`no reasoning item in ${JSON.stringify(final.output)}`);
        expect(reasoning.summary.map((s) => s.text).join('')).toBe(c.answers?.reasoning.reasoning);
        expect(types).toContain('response.reasoning_summary_text.delta');
        expect(types).toContain('response.reasoning_summary_text.done');
        const created = await openai.responses.create({
          model: model(c),
          input: 'Think, then answer.',
          reasoning: { effort: 'low' },
        });
        use('text');
        expect(created.output[0]?.type).toBe('reasoning');
      },
    );

    it('runs a function-calling loop over previous_response_id, and keeps both responses', async () => {
      use('tool_call');
      const first = await openai.responses.create({
        model: model(c),
        input: "What's the weather like in Paris today? Use get_weather.",
        tools: [WEATHER],
      });
      const calls = first.output.flatMap((item) => (item.type === 'function_call' ? [item] : []));
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) {
        expect(call.name).toBe('get_weather');
        expect(() => JSON.parse(call.arguments)).not.toThrow();
      }
      use('text');
      const second = await openai.responses.create({
        model: model(c),
        previous_response_id: first.id,
        input: calls.map((call) => ({
          type: 'function_call_output' as const,
          call_id: call.call_id,
          output: '15°C and cloudy',
        })),
        tools: [WEATHER],
      });
      expect(second.status).toBe('completed');
      expect(second.previous_response_id).toBe(first.id);
      expect(second.output_text.length).toBeGreaterThan(0);
      const upstream = fake()?.last().body as Record<string, unknown> | undefined;
      if (c.type === 'openai') {
        // The upstream holds the conversation: the follow-up goes there as it came.
        expect(upstream?.previous_response_id).toBe(first.id);
      } else if (upstream) {
        // Rebuilt from the stored items: the question, the call and its result all reached the upstream.
        const sent = JSON.stringify(upstream);
        expect(sent).toContain('Paris today');
        expect(sent).toContain('15°C and cloudy');
        expect(sent).toContain('get_weather');
      }
      const kept = await openai.responses.retrieve(second.id);
      expect(kept.id).toBe(second.id);
      expect(kept.output_text).toBe(second.output_text);
    });
  });

  describe('stored responses', () => {
    const openaiCase = PROVIDER_CASES.find((c) => c.type === 'anthropic') as ProviderCase;

    it('retrieves, replays as a stream, lists input items, and deletes', async () => {
      fakes.get('anthropic')?.setScenario('text');
      const created = await openai.responses.create({
        model: model(openaiCase),
        instructions: 'Be brief.',
        input: [
          { role: 'user', content: 'first question' },
          { role: 'user', content: [{ type: 'input_text', text: 'second part' }] },
        ],
        metadata: { ticket: 'T-1' },
      });
      const again = await openai.responses.retrieve(created.id);
      expect(again).toMatchObject({ id: created.id, status: 'completed', metadata: { ticket: 'T-1' } });
      expect(again.output_text).toBe(created.output_text);

      const replay = await openai.responses.retrieve(created.id, { stream: true });
      const events: ResponseStreamEvent[] = [];
      for await (const event of replay) events.push(event);
      expect(events[0]?.type).toBe('response.created');
      expect(events.at(-1)?.type).toBe('response.completed');
      const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
      expect(deltas.join('')).toBe(created.output_text);

      const items = await openai.responses.inputItems.list(created.id, { order: 'asc', limit: 1 });
      expect(items.data).toHaveLength(1);
      expect(items.has_more).toBe(true);
      expect(JSON.stringify(items.data[0])).toContain('first question');
      const all = [];
      for await (const item of openai.responses.inputItems.list(created.id, { order: 'asc', limit: 1 })) all.push(item);
      expect(all).toHaveLength(2);

      await openai.responses.delete(created.id);
      await expect(openai.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    });

    it('keeps nothing with store: false', async () => {
      const created = await openai.responses.create({ model: model(openaiCase), input: 'hi', store: false });
      await expect(openai.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    });

    it("answers 404 for another organization's or another key's response, and 400 for its follow-up", async () => {
      const created = await openai.responses.create({ model: model(openaiCase), input: 'mine' });
      const org = await gw.call<{ id: string }>('POST', '/api/organizations', {
        token: gw.admin.token,
        body: { name: 'Other org', slug: `other-${Date.now().toString(36)}` },
      });
      expect(org.status).toBe(201);
      const otherKey = await gw.call<{ secret: string }>('POST', '/api/keys', {
        token: gw.admin.token,
        headers: { 'x-aihub-organization': org.body.id },
        body: { name: 'other-org-key' },
      });
      expect(otherKey.status).toBe(201);
      const sameOrgKey = await gw.call<{ secret: string }>('POST', '/api/keys', {
        token: gw.admin.token,
        body: { name: 'second-key' },
      });
      for (const secret of [otherKey.body.secret, sameOrgKey.body.secret]) {
        const other = openaiClient(gw, secret);
        await expect(other.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
        await expect(other.responses.delete(created.id)).rejects.toMatchObject({ status: 404 });
        await expect(
          other.responses.create({ model: model(openaiCase), input: 'go on', previous_response_id: created.id }),
        ).rejects.toMatchObject({ status: 400, code: 'previous_response_not_found' });
      }
      // Still there for its owner.
      expect((await openai.responses.retrieve(created.id)).id).toBe(created.id);
    });

    it('refuses a hosted tool on a translated channel with a 400 naming it, and passes it to OpenAI', async () => {
      const hosted = { type: 'web_search_preview' as const };
      await expect(
        openai.responses.create({ model: model(openaiCase), input: 'news?', tools: [hosted] }),
      ).rejects.toMatchObject({ status: 400, param: 'tools[0].type', code: 'bad_request' });
      const upstream = PROVIDER_CASES.find((c) => c.type === 'openai') as ProviderCase;
      const ok = await openai.responses.create({ model: model(upstream), input: 'news?', tools: [hosted] });
      expect(ok.status).toBe('completed');
      expect(fakes.get('openai')?.last().body).toMatchObject({ tools: [hosted] });
    });

    it('counts input tokens locally, the conversation of previous_response_id included', async () => {
      type Count = { object: string; input_tokens: number };
      const count = (body: Record<string, unknown>) => openai.post<Count>('/responses/input_tokens', { body });
      const small = await count({ model: model(openaiCase), input: 'Hello there' });
      expect(small.object).toBe('response.input_tokens');
      // "Hello there" is 2 o200k tokens; OpenAI's chat framing adds 3 + 4 per message.
      expect(small.input_tokens).toBe(2 + 3 + 4);
      const withTools = await count({ model: model(openaiCase), input: 'Hello there', tools: [WEATHER] });
      expect(withTools.input_tokens).toBeGreaterThan(small.input_tokens + 12);
      const created = await openai.responses.create({ model: model(openaiCase), input: 'Hello there' });
      const followUp = await count({
        model: model(openaiCase),
        input: 'Hello there',
        previous_response_id: created.id,
      });
      expect(followUp.input_tokens).toBeGreaterThan(small.input_tokens * 2);
      await expect(count({ model: 'no-such-model', input: 'x' })).rejects.toMatchObject({ status: 404 });
      await expect(
        openaiClient(gw, 'sk-wrong').post('/responses/input_tokens', {
          body: { model: model(openaiCase), input: 'x' },
        }),
      ).rejects.toMatchObject({ status: 401 });
    });

    it('refuses a body with a mistyped field, and answers 401 without a key', async () => {
      await expect(
        openai.responses.create({
          model: model(openaiCase),
          input: 'x',
          max_output_tokens: 'many' as unknown as number,
        }),
      ).rejects.toMatchObject({ status: 400, param: 'max_output_tokens' });
      const anonymous = openaiClient(gw, 'sk-not-a-key');
      await expect(anonymous.responses.create({ model: model(openaiCase), input: 'x' })).rejects.toMatchObject({
        status: 401,
      });
      await expect(anonymous.responses.retrieve('resp_x')).rejects.toMatchObject({ status: 401 });
    });
  });
});
