/**
 * The Gemini API inbound (/v1beta) through the official `@google/genai` SDK with its base URL pointed at the
 * hub: generateContent and generateContentStream over every channel type (translated), function calling,
 * countTokens, embedContent, models.list, the hub key in `x-goog-api-key` or `?key=`, errors in Google's shape.
 */
import { type FunctionDeclaration, GoogleGenAI, Type } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import type { FakeUpstream } from '../../support/fakes/http.js';
import {
  addChannel,
  addModel,
  expectedCost,
  type GatewayUnderTest,
  logOf,
  PRICES,
  startGateway,
} from '../../support/gateway.js';
import { expectedAnswer, PROVIDER_CASES } from '../../support/providers.js';

const WEATHER: FunctionDeclaration = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] },
};

describe.each(ENGINES)('Gemini API inbound /v1beta (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let genai: GoogleGenAI;
  const fakes = new Map<string, FakeUpstream | undefined>();

  beforeAll(async () => {
    gw = await startGateway(engine);
    genai = new GoogleGenAI({ apiKey: gw.key, httpOptions: { baseUrl: gw.url } });
    for (const c of PROVIDER_CASES) {
      const fake = await c.start();
      fakes.set(c.type, fake);
      const channel = await addChannel(gw, c.channel(fake, `gem-${c.type}`));
      await addModel(gw, {
        name: `gem-${c.type}`,
        ...PRICES,
        routes: [{ channelId: channel.id, upstreamModel: c.chatModel }],
      });
      if (c.type === 'mock')
        await addModel(gw, {
          name: 'gem-embed',
          ...PRICES,
          capabilities: ['embeddings'],
          routes: [{ channelId: channel.id, upstreamModel: 'mock-embedding' }],
        });
    }
  });
  afterAll(async () => {
    for (const fake of fakes.values()) await fake?.close();
    await gw?.t.close();
  });

  const chat = (c: (typeof PROVIDER_CASES)[number]) => ({
    model: c.chatModel,
    messages: [{ role: 'user' as const, content: 'Say hello.' }],
    max_tokens: 256,
  });

  describe.each(PROVIDER_CASES)('$type channel', (c) => {
    it('generateContent: the answer as a GenerateContentResponse, usage and cost in the log', async () => {
      fakes.get(c.type)?.setScenario('text');
      const response = await genai.models.generateContent({
        model: `gem-${c.type}`,
        contents: 'Say hello.',
        config: { maxOutputTokens: 256 },
      });
      const want = expectedAnswer(c, 'text', chat(c));
      expect(response.text).toBe(want.content);
      expect(response.candidates?.[0]?.finishReason).toBe('STOP');
      expect(response.usageMetadata?.promptTokenCount).toBe(want.usage.prompt);
      expect(response.modelVersion).toBe(`gem-${c.type}`);
      const fake = fakes.get(c.type);
      if (fake) c.expectChatRequest(fake.last(), fake, { stream: false, model: c.chatModel });
      const row = await logOf(gw.t, response.sdkHttpResponse?.headers?.['x-request-id']);
      expect(row).toMatchObject({
        status: 200,
        endpoint: 'generate_content',
        model: `gem-${c.type}`,
        promptTokens: want.usage.prompt,
        completionTokens: want.usage.completion,
        costMicros: expectedCost(want.usage),
      });
    });

    it('generateContentStream: the same text in SSE chunks, usage on the last', async () => {
      fakes.get(c.type)?.setScenario('text');
      const stream = await genai.models.generateContentStream({
        model: `gem-${c.type}`,
        contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }],
        config: { maxOutputTokens: 256 },
      });
      let text = '';
      let last: Awaited<ReturnType<typeof genai.models.generateContent>> | undefined;
      for await (const chunk of stream) {
        text += chunk.text ?? '';
        last = chunk;
      }
      const want = expectedAnswer(c, 'text', chat(c));
      expect(text).toBe(want.content);
      expect(last?.candidates?.[0]?.finishReason).toBe('STOP');
      expect(last?.usageMetadata?.candidatesTokenCount).toBe(want.usage.completion - want.usage.reasoning);
    });
  });

  it('function calling: a functionCall part comes back; the functionResponse turn goes up as a tool result', async () => {
    const c = PROVIDER_CASES.find((p) => p.type === 'openai');
    if (!c) throw new Error('no openai case');
    fakes.get('openai')?.setScenario('tool_call');
    const response = await genai.models.generateContent({
      model: 'gem-openai',
      contents: "What's the weather in Paris?",
      config: { tools: [{ functionDeclarations: [WEATHER] }] },
    });
    const call = response.functionCalls?.[0];
    expect(call?.name).toBe('get_weather');
    c.expectToolsUpstream(fakes.get('openai')?.last().body);
    fakes.get('openai')?.setScenario('text');
    await genai.models.generateContent({
      model: 'gem-openai',
      contents: [
        { role: 'user', parts: [{ text: "What's the weather in Paris?" }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'get_weather', response: { result: '15°C and cloudy' } } }],
        },
      ],
      config: { tools: [{ functionDeclarations: [WEATHER] }] },
    });
    const openaiFake = fakes.get('openai');
    if (!openaiFake) throw new Error('no openai fake');
    const { messages } = openaiFake.last().body as { messages: Array<Record<string, unknown>> };
    expect(messages[1]).toMatchObject({
      role: 'assistant',
      tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    });
    const calls = (messages[1]?.tool_calls ?? []) as Array<{ id: string }>;
    const callId = calls[0]?.id;
    expect(callId).toBeTruthy();
    expect(messages[2]).toMatchObject({ role: 'tool', tool_call_id: callId });
    expect(String(messages[2]?.content)).toContain('15°C and cloudy');
  });

  it('countTokens counts locally (free); embedContent answers embeddings', async () => {
    const counted = await genai.models.countTokens({
      model: 'gem-openai',
      contents: 'Hello there, how are you today?',
    });
    expect(counted.totalTokens).toBeGreaterThan(5);
    expect(counted.totalTokens).toBeLessThan(20);
    const embedded = await genai.models.embedContent({ model: 'gem-embed', contents: ['first text', 'second text'] });
    expect(embedded.embeddings).toHaveLength(2);
    expect(embedded.embeddings?.[0]?.values?.length).toBeGreaterThan(0);
  });

  it('models.list shows the models the key may use', async () => {
    const names: string[] = [];
    for await (const model of await genai.models.list()) names.push(model.name ?? '');
    expect(names).toContain('models/gem-openai');
    expect(names).toContain('models/gem-embed');
  });

  it('the key in ?key= works; no key, a wrong key and an unknown model answer in Google’s error shape', async () => {
    const body = JSON.stringify({ contents: [{ parts: [{ text: 'Hi' }] }] });
    const headers = { 'content-type': 'application/json' };
    const viaQuery = await fetch(`${gw.url}/v1beta/models/gem-mock:generateContent?key=${gw.key}`, {
      method: 'POST',
      headers,
      body,
    });
    expect(viaQuery.status).toBe(200);
    const noKey = await fetch(`${gw.url}/v1beta/models/gem-mock:generateContent`, { method: 'POST', headers, body });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    const wrong = await new GoogleGenAI({ apiKey: 'sk-wrong', httpOptions: { baseUrl: gw.url } }).models
      .generateContent({ model: 'gem-mock', contents: 'Hi' })
      .catch((e: unknown) => e);
    expect((wrong as { status?: number }).status).toBe(401);
    const unknown = await fetch(`${gw.url}/v1beta/models/nope:generateContent`, {
      method: 'POST',
      headers: { ...headers, 'x-goog-api-key': gw.key },
      body,
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    const bad = await fetch(`${gw.url}/v1beta/models/gem-mock:generateContent`, {
      method: 'POST',
      headers: { ...headers, 'x-goog-api-key': gw.key },
      body: JSON.stringify({ contents: [] }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
  });
});
