/**
 * The official `@anthropic-ai/sdk` as a client of AI Hub's Anthropic-compatible /v1/messages, over every
 * channel type (the request is translated to the channel's protocol and back). Also checks the exact
 * event sequence of a stream on the wire.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicRequestToChat } from '../../../src/providers/anthropic/index.js';
import type { AnthropicMessagesRequest } from '../../../src/providers/anthropic/types.js';
import { ENGINES } from '../../support/databases.js';
import type { FakeUpstream } from '../../support/fakes/http.js';
import {
  addChannel,
  addModel,
  anthropicClient,
  expectedCost,
  type GatewayUnderTest,
  logOf,
  PRICES,
  postRaw,
  type SseEvent,
  startGateway,
} from '../../support/gateway.js';
import { type AnswerScenario, expectedAnswer, PROVIDER_CASES, type ProviderCase } from '../../support/providers.js';

const chatModel = (c: ProviderCase) => `claude-via-${c.type}`;

const WEATHER_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: {
    type: 'object',
    properties: {
      city: { type: 'string' },
      location: { type: 'string' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    },
  },
};

interface Block {
  index: number;
  type: string;
  start: Record<string, unknown>;
  deltas: Array<Record<string, unknown>>;
}

/**
 * Checks the Messages stream grammar (PROTOCOLS.md §3.4): event name = data.type; message_start first;
 * per block one start, its deltas, one stop, indexes consecutive from 0 and never interleaved; then
 * message_delta and message_stop last. Returns the blocks.
 */
function checkStreamGrammar(events: SseEvent[]): {
  blocks: Block[];
  messageStart: Record<string, unknown>;
  messageDelta: Record<string, unknown>;
  names: string[];
} {
  const typed = events.filter((e) => e.event !== 'ping');
  const names = typed.map((e) => e.event ?? '');
  const datas = typed.map((e) => JSON.parse(e.data) as Record<string, unknown>);
  expect(datas.map((data) => data.type)).toEqual(names);
  expect(names[0]).toBe('message_start');
  expect(names.slice(-2)).toEqual(['message_delta', 'message_stop']);
  const blocks: Block[] = [];
  let open: Block | undefined;
  for (let i = 1; i < names.length - 2; i++) {
    const data = datas[i] as Record<string, unknown>;
    switch (names[i]) {
      case 'content_block_start': {
        expect(open).toBeUndefined();
        expect(data.index).toBe(blocks.length);
        const start = data.content_block as Record<string, unknown>;
        open = { index: data.index as number, type: start.type as string, start, deltas: [] };
        blocks.push(open);
        break;
      }
      case 'content_block_delta':
        expect(open).toBeDefined();
        expect(data.index).toBe(open?.index);
        open?.deltas.push(data.delta as Record<string, unknown>);
        break;
      case 'content_block_stop':
        expect(data.index).toBe(open?.index);
        open = undefined;
        break;
      default:
        throw new Error(`unexpected event ${names[i]} in the middle of the stream`);
    }
  }
  expect(open).toBeUndefined();
  return {
    blocks,
    messageStart: datas[0] as Record<string, unknown>,
    messageDelta: datas[datas.length - 2] as Record<string, unknown>,
    names,
  };
}

const joined = (block: Block | undefined, field: string) =>
  (block?.deltas ?? []).map((d) => (typeof d[field] === 'string' ? d[field] : '')).join('');

describe.each(ENGINES)('Anthropic SDK through AI Hub /v1/messages (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let anthropic: Anthropic;
  const fakes = new Map<string, FakeUpstream | undefined>();
  const channelIds = new Map<string, string>();

  beforeAll(async () => {
    gw = await startGateway(engine);
    anthropic = anthropicClient(gw);
    for (const c of PROVIDER_CASES) {
      const fake = await c.start();
      fakes.set(c.type, fake);
      const channel = await addChannel(gw, c.channel(fake, `ch-${c.type}`));
      channelIds.set(c.type, channel.id);
      await addModel(gw, {
        name: chatModel(c),
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
    const use = (scenario: AnswerScenario) => fake()?.setScenario(scenario);
    const ask = (extra: Partial<MessageCreateParamsNonStreaming> = {}): MessageCreateParamsNonStreaming => ({
      model: chatModel(c),
      max_tokens: 512,
      messages: [{ role: 'user', content: 'Say hello.' }],
      ...extra,
    });
    const expected = (scenario: AnswerScenario, body: MessageCreateParamsNonStreaming) =>
      expectedAnswer(c, scenario, anthropicRequestToChat(body as unknown as AnthropicMessagesRequest));
    const toolAsk = () =>
      ask({
        messages: [{ role: 'user', content: "What's the weather like in Paris today? Use get_weather." }],
        tools: [WEATHER_TOOL],
      });
    const rawStream = (body: MessageCreateParamsNonStreaming) =>
      postRaw(
        `${gw.url}/v1/messages`,
        { ...body, stream: true },
        { 'x-api-key': gw.key, 'anthropic-version': '2023-06-01' },
      );

    it('non-stream: an Anthropic message under the requested model name, with usage, and a log row', async () => {
      use('text');
      const body = ask();
      const { data: message, response } = await anthropic.messages.create(body).withResponse();
      // Anthropic's SDK reads `request-id`; AI Hub sends `x-request-id` (DESIGN.md §6).
      const requestId = response.headers.get('x-request-id');
      const want = expected('text', body);
      expect(message).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: chatModel(c),
        stop_reason: 'end_turn',
        stop_sequence: null,
      });
      expect(message.id).toMatch(/^msg_/);
      // toMatchObject: an Anthropic channel's blocks come back as Anthropic sent them (`citations: null` included).
      expect(message.content).toMatchObject([{ type: 'text', text: want.content }]);
      expect(message.usage).toMatchObject({
        input_tokens: want.usage.prompt - want.usage.cached,
        output_tokens: want.usage.completion,
      });
      const f = fake();
      if (f) c.expectChatRequest(f.last(), f, { stream: false, model: c.chatModel });
      const row = await logOf(gw.t, requestId);
      expect(row).toMatchObject({
        status: 200,
        endpoint: 'messages',
        stream: false,
        model: chatModel(c),
        channelId: channelIds.get(c.type),
        promptTokens: want.usage.prompt,
        completionTokens: want.usage.completion,
        costMicros: expectedCost(want.usage),
      });
    });

    it('stream: messages.stream().finalMessage() gives the same message', async () => {
      use('text');
      const body = ask();
      const message = await anthropic.messages.stream(body).finalMessage();
      const want = expected('text', body);
      expect(message.content).toEqual([{ type: 'text', text: want.content }]);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage.output_tokens).toBe(want.usage.completion);
      expect(message.usage.input_tokens).toBe(want.usage.prompt - want.usage.cached);
      const f = fake();
      if (f) c.expectChatRequest(f.last(), f, { stream: true, model: c.chatModel });
    });

    it('stream on the wire: message_start, one text block (start, deltas, stop), message_delta, message_stop', async () => {
      use('text');
      const body = ask();
      const res = await rawStream(body);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const want = expected('text', body);
      const { blocks, names, messageStart, messageDelta } = checkStreamGrammar(res.events);
      expect(names.filter((n) => n === 'message_start' || n === 'message_delta' || n === 'message_stop')).toEqual([
        'message_start',
        'message_delta',
        'message_stop',
      ]);
      expect(blocks.map((b) => b.type)).toEqual(['text']);
      expect(blocks[0]?.start).toEqual({ type: 'text', text: '' });
      expect(blocks[0]?.deltas.every((d) => d.type === 'text_delta')).toBe(true);
      expect(joined(blocks[0], 'text')).toBe(want.content);
      expect(messageStart.message).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: chatModel(c),
        content: [],
        stop_reason: null,
      });
      expect(messageDelta).toMatchObject({
        delta: { stop_reason: 'end_turn' },
        usage: { output_tokens: want.usage.completion },
      });
      const row = await logOf(gw.t, res.requestId);
      expect(row).toMatchObject({
        status: 200,
        stream: true,
        endpoint: 'messages',
        completionTokens: want.usage.completion,
      });
    });

    it('tool use (non-stream): tool_use blocks with the input object intact, stop_reason tool_use', async () => {
      use('tool_call');
      const body = toolAsk();
      const message = await anthropic.messages.create(body);
      const want = expected('tool_call', body);
      expect(message.stop_reason).toBe('tool_use');
      const uses = message.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      expect(uses.map((u) => u.name)).toEqual(want.toolCalls.map((t) => t.name));
      expect(uses.map((u) => u.input)).toEqual(want.toolCalls.map((t) => JSON.parse(t.arguments)));
      for (const use of uses) expect(use.id).not.toBe('');
      const f = fake();
      if (f) c.expectToolsUpstream(f.last().body);
    });

    it('tool use (stream): finalMessage and the raw input_json_delta pieces give the same input', async () => {
      use('tool_call');
      const body = toolAsk();
      const want = expected('tool_call', body);
      const message = await anthropic.messages.stream(body).finalMessage();
      const uses = message.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      expect(message.stop_reason).toBe('tool_use');
      expect(uses.map((u) => u.input)).toEqual(want.toolCalls.map((t) => JSON.parse(t.arguments)));

      const res = await rawStream(body);
      const { blocks, messageDelta } = checkStreamGrammar(res.events);
      const toolBlocks = blocks.filter((b) => b.type === 'tool_use');
      expect(toolBlocks).toHaveLength(want.toolCalls.length);
      toolBlocks.forEach((block, i) => {
        expect(block.start).toMatchObject({ type: 'tool_use', name: want.toolCalls[i]?.name, input: {} });
        expect(block.deltas.every((d) => d.type === 'input_json_delta')).toBe(true);
        expect(JSON.parse(joined(block, 'partial_json'))).toEqual(JSON.parse(want.toolCalls[i]?.arguments ?? 'null'));
      });
      expect(messageDelta).toMatchObject({ delta: { stop_reason: 'tool_use' } });
    });

    it('reasoning: a thinking block before the text (non-stream and on the wire) when the upstream reasons in text', async () => {
      use('reasoning');
      const body = ask({
        messages: [{ role: 'user', content: 'What is 17 × 23?' }],
        thinking: { type: 'enabled', budget_tokens: 1024 },
        max_tokens: 4096,
      });
      const want = expected('reasoning', body);
      const message = await anthropic.messages.create(body);
      const types = message.content.map((b) => b.type);
      if (want.reasoning === null) {
        expect(types).toEqual(['text']);
      } else {
        expect(types).toEqual(['thinking', 'text']);
        expect((message.content[0] as Anthropic.ThinkingBlock).thinking).toBe(want.reasoning);
      }
      expect((message.content[message.content.length - 1] as Anthropic.TextBlock).text).toBe(want.content);

      const res = await rawStream(body);
      const { blocks } = checkStreamGrammar(res.events);
      if (want.reasoning !== null) {
        expect(blocks.map((b) => b.type)).toEqual(['thinking', 'text']);
        expect(joined(blocks[0], 'thinking')).toBe(want.reasoning);
      }
      expect(joined(blocks[blocks.length - 1], 'text')).toBe(want.content);
    });
  });
});
