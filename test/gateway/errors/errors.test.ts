/**
 * Errors as the official SDKs see them: AI Hub's own (bad key, unknown model, bad input) and upstream
 * failures mapped per provider (429 with Retry-After, 5xx, a rejected provider key that disables the
 * channel).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../support/app.js';
import { ENGINES } from '../../support/databases.js';
import type { FakeUpstream } from '../../support/fakes/http.js';
import {
  addChannel,
  addModel,
  anthropicClient,
  eventually,
  type GatewayUnderTest,
  logOf,
  MASTER_KEY,
  openaiClient,
  postRaw,
  startGateway,
} from '../../support/gateway.js';
import { PROVIDER_CASES, type ProviderCase, providerCase } from '../../support/providers.js';

const UPSTREAM_CASES = PROVIDER_CASES.filter((c) => c.type !== 'mock');

/** Retry-After each fake's 429 carries: the header (7 s), or Gemini's RetryInfo detail (37 s). */
const RETRY_AFTER: Record<string, string> = {
  openai: '7',
  'azure-openai': '7',
  anthropic: '7',
  gemini: '37',
  'openai-compatible': '7',
};

interface ChannelView {
  id: string;
  status: string;
  disabledReason: string | null;
}

async function catchError<T>(promise: Promise<T>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe.each(ENGINES)('errors through the SDKs (%s)', (engine) => {
  // The gateway rests a provider key after a 429 until Retry-After passes; tests move this clock past it.
  const clock = new ManualClock();
  const afterCooldown = () => clock.advance(61_000);
  let gw: GatewayUnderTest;
  let openai: OpenAI;
  let anthropic: Anthropic;
  const fakes = new Map<string, FakeUpstream | undefined>();
  const channelIds = new Map<string, string>();
  const model = (c: ProviderCase) => `err-${c.type}`;

  beforeAll(async () => {
    gw = await startGateway(engine, { clock });
    openai = openaiClient(gw);
    anthropic = anthropicClient(gw);
    for (const c of PROVIDER_CASES) {
      const fake = await c.start();
      fakes.set(c.type, fake);
      const channel = await addChannel(gw, c.channel(fake, `err-ch-${c.type}`));
      channelIds.set(c.type, channel.id);
      await addModel(gw, { name: model(c), routes: [{ channelId: channel.id, upstreamModel: c.chatModel }] });
      if (c.embeddingModel)
        await addModel(gw, {
          name: `err-embed-${c.type}`,
          routes: [{ channelId: channel.id, upstreamModel: c.embeddingModel }],
        });
    }
  });
  afterAll(async () => {
    for (const fake of fakes.values()) await fake?.close();
    await gw?.t.close();
  });

  const chat = (c: ProviderCase) => ({ model: model(c), messages: [{ role: 'user' as const, content: 'Hello' }] });

  describe('AI Hub errors', () => {
    it('a wrong or missing AI Hub key → OpenAI.AuthenticationError (401, code invalid_api_key), nothing sent upstream', async () => {
      const fake = fakes.get('openai') as FakeUpstream;
      const before = fake.requests.length;
      const bad = openaiClient(gw, 'sk-not-a-real-aihub-key-000000000000000000000');
      const error = await catchError(bad.chat.completions.create(chat(PROVIDER_CASES[0] as ProviderCase)));
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'authentication_error' });
      const missing = await postRaw(`${gw.url}/v1/chat/completions`, chat(PROVIDER_CASES[0] as ProviderCase), {});
      expect(missing.status).toBe(401);
      expect(JSON.parse(missing.text)).toMatchObject({
        error: { code: 'invalid_api_key', type: 'authentication_error', param: null },
      });
      expect(missing.headers.get('x-request-id')).toMatch(/^req_/);
      expect(fake.requests.length).toBe(before);
    });

    it('a wrong key on /v1/messages → Anthropic AuthenticationError; x-api-key and Bearer are both accepted', async () => {
      const bad = anthropicClient(gw, 'sk-not-a-real-aihub-key-000000000000000000000');
      const error = await catchError(
        bad.messages.create({ model: 'err-mock', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }),
      );
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect((error as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
        type: 'error',
        error: { type: 'authentication_error' },
      });

      const body = { model: 'err-mock', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] };
      const viaXApiKey = await postRaw(`${gw.url}/v1/messages`, body, {
        'x-api-key': gw.key,
        'anthropic-version': '2023-06-01',
      });
      const viaBearer = await postRaw(`${gw.url}/v1/messages`, body, { authorization: `Bearer ${gw.key}` });
      expect(viaXApiKey.status).toBe(200);
      expect(viaBearer.status).toBe(200);
      expect(JSON.parse(viaXApiKey.text)).toMatchObject({ type: 'message', role: 'assistant' });
    });

    it('an unknown model → NotFoundError (404, code model_not_found) from both SDKs', async () => {
      const error = await catchError(
        openai.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }] }),
      );
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
      expect((error as Error).message).toContain('no-such-model');
      const anthropicError = await catchError(
        anthropic.messages.create({
          model: 'no-such-model',
          max_tokens: 64,
          messages: [{ role: 'user', content: 'Hi' }],
        }),
      );
      expect(anthropicError).toBeInstanceOf(Anthropic.NotFoundError);
      expect((anthropicError as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({
        error: { type: 'not_found_error' },
      });
    });

    it('a request without messages → 400 BadRequestError naming the field', async () => {
      const error = await catchError(
        openai.chat.completions.create({
          model: 'err-mock',
        } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming),
      );
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, param: 'messages', type: 'invalid_request_error' });
      expect((error as Error).message).toContain('messages');
      const missingMax = await catchError(
        anthropic.messages.create({
          model: 'err-mock',
          messages: [{ role: 'user', content: 'Hi' }],
        } as unknown as Anthropic.MessageCreateParamsNonStreaming),
      );
      expect(missingMax).toBeInstanceOf(Anthropic.BadRequestError);
      expect((missingMax as Error).message).toContain('max_tokens');
    });
  });

  describe('bodies the client got wrong', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const postText = async (path: string, body: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${gw.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.key}`, ...headers },
        body,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const channelHealth = async (type: string) => {
      const res = await gw.call<{ health: { status: string; lastError: string | null } }>(
        'GET',
        `/api/admin/channels/${channelIds.get(type)}`,
        { token: MASTER_KEY },
      );
      return res.body.health;
    };

    // Regression: a 10 KB body nested 5,000 levels deep passed the parser, overflowed the stack while the
    // upstream request was serialised, and was answered 502 upstream_error ("Maximum call stack size
    // exceeded") as the channel's failure: six of them marked the channel down for everyone.
    it('a body nested 5,000 levels deep → 400 in each protocol, nothing sent upstream, the channel stays healthy', async () => {
      const openaiFake = fakes.get('openai') as FakeUpstream;
      const anthropicFake = fakes.get('anthropic') as FakeUpstream;
      const before = { openai: openaiFake.requests.length, anthropic: anthropicFake.requests.length };
      for (let i = 0; i < 8; i++) {
        const res = await postText(
          '/v1/chat/completions',
          `{"model":"err-openai","messages":[{"role":"user","content":"Hi"}],"extra":${deep}}`,
        );
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          error: {
            message: expect.stringMatching(/deep/),
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_json',
          },
        });
      }
      const messages = await postText(
        '/v1/messages',
        `{"model":"err-anthropic","max_tokens":16,"messages":[{"role":"user","content":${deep}}]}`,
      );
      expect(messages.status).toBe(400);
      expect(messages.body).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringMatching(/deep/) },
      });
      const api = await postText('/api/auth/login', `{"email":"a@b.c","password":${deep}}`);
      expect(api.status).toBe(400);
      expect(api.body).toEqual({
        error: { code: 'invalid_json', message: expect.stringMatching(/deep/), requestId: expect.any(String) },
      });

      expect(openaiFake.requests.length).toBe(before.openai);
      expect(anthropicFake.requests.length).toBe(before.anthropic);
      for (const type of ['openai', 'anthropic']) {
        expect(await channelHealth(type)).toMatchObject({ lastError: null });
        expect((await channelHealth(type)).status).not.toBe('down');
      }
      // 100 levels (the bound) are fine.
      const ok = await postText(
        '/v1/chat/completions',
        `{"model":"err-openai","messages":[{"role":"user","content":"Hi"}],"extra":${'['.repeat(99)}${']'.repeat(99)}}`,
      );
      expect(ok.status).toBe(200);
    });

    it('unparseable JSON → 400 invalid_json in each protocol; an /api body over 1 MiB → 413 in the /api shape', async () => {
      const chat = await postText('/v1/chat/completions', '{"model":');
      expect(chat).toMatchObject({
        status: 400,
        body: { error: { type: 'invalid_request_error', code: 'invalid_json' } },
      });
      const messages = await postText('/v1/messages', '{"model":');
      expect(messages).toMatchObject({
        status: 400,
        body: { type: 'error', error: { type: 'invalid_request_error' } },
      });
      const api = await postText('/api/auth/login', '{"email":');
      expect(api).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
      const large = await postText('/api/auth/login', JSON.stringify({ email: 'x'.repeat(1_100_000) }));
      expect(large).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    });

    // Regression: known fields of the wrong type were forwarded to the upstream (OpenAI answers 400, other
    // providers guessed or crashed the translator, which counted against the channel).
    it("mistyped known fields → 400 naming the field in OpenAI's words, nothing sent upstream", async () => {
      const fake = fakes.get('openai') as FakeUpstream;
      const before = fake.requests.length;
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [
          { max_tokens: 'ten' },
          'max_tokens',
          "Invalid type for 'max_tokens': expected an integer, but got a string instead.",
        ],
        [
          { max_tokens: 1.5 },
          'max_tokens',
          "Invalid type for 'max_tokens': expected an integer, but got a decimal instead.",
        ],
        [
          { temperature: 'hot' },
          'temperature',
          "Invalid type for 'temperature': expected a decimal, but got a string instead.",
        ],
        [{ stream: 'yes' }, 'stream', "Invalid type for 'stream': expected a boolean, but got a string instead."],
        [{ stop: [1] }, 'stop[0]', "Invalid type for 'stop[0]': expected a string, but got an integer instead."],
        [{ tools: [null] }, 'tools[0]', "Invalid type for 'tools[0]': expected an object, but got null instead."],
        [
          { messages: [{ role: 'user', content: 5 }] },
          'messages[0].content',
          "Invalid type for 'messages[0].content': expected a string or an array, but got an integer instead.",
        ],
        [
          { messages: [] },
          'messages',
          "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        ],
      ];
      for (const [fields, param, message] of cases) {
        const error = await catchError(
          openai.chat.completions.create({
            ...chat(providerCase('openai')),
            ...fields,
          } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming),
        );
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect(error).toMatchObject({ status: 400, param, type: 'invalid_request_error', code: 'validation_failed' });
        expect((error as Error).message).toContain(message);
      }
      const embeddings = await catchError(
        openai.embeddings.create({ model: 'err-embed-openai', input: 'Hi', dimensions: 'ten' as unknown as number }),
      );
      expect(embeddings).toMatchObject({ status: 400, param: 'dimensions' });
      expect(fake.requests.length).toBe(before);
    });

    it("mistyped known fields on /v1/messages → 400 in Anthropic's words, nothing sent upstream", async () => {
      const fake = fakes.get('anthropic') as FakeUpstream;
      const before = fake.requests.length;
      const base = { model: 'err-anthropic', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] };
      for (const [fields, message] of [
        [{ max_tokens: 'ten' }, 'max_tokens: Input should be a valid integer'],
        [{ temperature: 'hot' }, 'temperature: Input should be a valid number'],
        [{ stop_sequences: 'END' }, 'stop_sequences: Input should be a valid list'],
        [
          { messages: [{ role: 'user', content: 5 }] },
          'messages.0.content: Input should be a valid string or a valid list',
        ],
      ] as const) {
        const error = await catchError(
          anthropic.messages.create({ ...base, ...fields } as unknown as Anthropic.MessageCreateParamsNonStreaming),
        );
        expect(error).toBeInstanceOf(Anthropic.BadRequestError);
        expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
          type: 'error',
          error: { type: 'invalid_request_error', message },
        });
      }
      expect(fake.requests.length).toBe(before);
    });

    it('unknown fields and null values of known fields still pass through untouched', async () => {
      const fake = fakes.get('openai') as FakeUpstream;
      const res = await postRaw(
        `${gw.url}/v1/chat/completions`,
        { ...chat(providerCase('openai')), max_tokens: null, temperature: null, vendor_extension: { depth: [1, [2]] } },
        { authorization: `Bearer ${gw.key}` },
      );
      expect(res.status).toBe(200);
      expect(fake.requests.at(-1)?.body).toMatchObject({
        max_tokens: null,
        temperature: null,
        vendor_extension: { depth: [1, [2]] },
      });
    });
  });

  describe('requests a provider cannot take', () => {
    // Regression: the adapter's UnsupportedRequestError (a 400 decided before sending) used to be mapped
    // as a transport failure: 502 "Could not reach upstream …", retryable, counted against the channel.
    it('embeddings with token-array input on a Gemini channel → 400 invalid_request_error, nothing sent upstream', async () => {
      const fake = fakes.get('gemini') as FakeUpstream;
      const before = fake.requests.length;
      const error = await catchError(openai.embeddings.create({ model: 'err-embed-gemini', input: [[1, 2, 3]] }));
      expect(fake.requests.length).toBe(before);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    });

    // Regression: an ApiError thrown by an adapter while building the request ("n must be 1", param n)
    // used to be re-coded as `upstream_error` without its param.
    it('n: 2 on an Anthropic channel → 400 bad_request naming the field n, nothing sent upstream', async () => {
      const fake = fakes.get('anthropic') as FakeUpstream;
      const before = fake.requests.length;
      const error = await catchError(openai.chat.completions.create({ ...chat(providerCase('anthropic')), n: 2 }));
      expect(fake.requests.length).toBe(before);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, code: 'bad_request', param: 'n' });
    });
  });

  describe.each(UPSTREAM_CASES)('upstream failures on a $type channel', (c) => {
    const fake = () => fakes.get(c.type) as FakeUpstream;

    it('upstream 429 → 429 RateLimitError with Retry-After passed on (non-stream and stream), logged with the attempt', async () => {
      fake().setScenario('rate_limit');
      const error = await catchError(openai.chat.completions.create(chat(c)));
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
      expect(rateLimit).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
      expect(rateLimit.headers?.get('retry-after')).toBe(RETRY_AFTER[c.type]);
      afterCooldown();

      const streamError = await catchError(
        (async () => {
          for await (const _chunk of await openai.chat.completions.create({ ...chat(c), stream: true })) {
            // no chunk is expected
          }
        })(),
      );
      expect(streamError).toBeInstanceOf(OpenAI.RateLimitError);
      expect((streamError as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe(
        RETRY_AFTER[c.type],
      );
      afterCooldown();

      const anthropicError = await catchError(
        anthropic.messages.create({ model: model(c), max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }),
      );
      expect(anthropicError).toBeInstanceOf(Anthropic.RateLimitError);
      expect((anthropicError as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe(
        RETRY_AFTER[c.type],
      );
      afterCooldown();

      const raw = await postRaw(`${gw.url}/v1/chat/completions`, chat(c), { authorization: `Bearer ${gw.key}` });
      const row = await logOf(gw.t, raw.requestId);
      expect(row).toMatchObject({
        status: 429,
        errorCode: 'rate_limit_exceeded',
        channelId: channelIds.get(c.type),
        completionTokens: 0,
        costMicros: 0,
      });
      expect(row.attempts).toEqual([expect.objectContaining({ channelId: channelIds.get(c.type), status: 429 })]);
      afterCooldown();
      fake().setScenario('text');
      gw.t.services.health.resetChannel(channelIds.get(c.type) as string);
    });

    // Regression: while the only key rested after a 429 the model had no target, and the client got 503
    // no_available_channel without Retry-After though it was being rate limited (DESIGN.md §6).
    it('while the key rests after a 429, the next request is also answered 429 with the remaining Retry-After', async () => {
      const f = fake();
      f.setScenario({ name: 'rate_limit', retryAfterSeconds: 30 });
      await catchError(openai.chat.completions.create(chat(c)));
      f.setScenario('text');
      clock.advance(10_000);
      try {
        const error = await catchError(openai.chat.completions.create(chat(c)));
        expect(error).toBeInstanceOf(OpenAI.RateLimitError);
        expect(
          Number((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')),
        ).toBeGreaterThan(0);
      } finally {
        afterCooldown();
        gw.t.services.health.resetChannel(channelIds.get(c.type) as string);
      }
    });

    it('upstream 500 on a single channel → 502 InternalServerError with code upstream_error', async () => {
      fake().setScenario('server_error');
      const error = await catchError(openai.chat.completions.create(chat(c)));
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error).toMatchObject({ status: 502, code: 'upstream_error', type: 'api_error' });
      const streamError = await catchError(
        (async () => {
          for await (const _chunk of await openai.chat.completions.create({ ...chat(c), stream: true })) {
            // no chunk is expected
          }
        })(),
      );
      expect(streamError).toMatchObject({ status: 502, code: 'upstream_error' });
      fake().setScenario('text');
      gw.t.services.health.resetChannel(channelIds.get(c.type) as string);
    });

    it('upstream rejects the provider key → 502 upstream_auth_failed without the key; the channel is disabled with a reason', async () => {
      const f = fake();
      f.setScenario('unauthorized');
      const error = await catchError(openai.chat.completions.create(chat(c)));
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error).toMatchObject({ status: 502, code: 'upstream_auth_failed' });
      const message = (error as Error).message;
      expect(message).not.toContain(f.key);
      expect(message).not.toContain(f.key.slice(-8));
      expect(message).toMatch(/key/i);

      const channelId = channelIds.get(c.type) as string;
      const disabled = await eventually(
        async () => {
          // The master key, not the admin's session: this file moves the clock past session lifetimes.
          const res = await gw.call<{ data: ChannelView[] }>('GET', '/api/admin/channels', { token: MASTER_KEY });
          const channel = res.body.data.find((ch) => ch.id === channelId);
          return channel?.status === 'disabled' ? { channel, text: JSON.stringify(res.body) } : undefined;
        },
        5_000,
        'the channel to be disabled',
      );
      expect(disabled.channel.disabledReason).toMatch(/rejected the provider key/);
      expect(disabled.text).not.toContain(f.key);

      // A disabled channel gets no traffic: the model has no channel left.
      const before = f.requests.length;
      const after = await catchError(openai.chat.completions.create(chat(c)));
      expect(after).toMatchObject({ status: 503, code: 'no_available_channel' });
      expect(f.requests.length).toBe(before);

      // An admin fixes the key and re-enables the channel.
      f.setScenario('text');
      const enabled = await gw.call<ChannelView>('PATCH', `/api/admin/channels/${channelId}`, {
        token: MASTER_KEY,
        body: { enabled: true },
      });
      expect(enabled.body).toMatchObject({ status: 'active', disabledReason: null });
      const ok = await openai.chat.completions.create(chat(c));
      expect(ok.choices[0]?.message.role).toBe('assistant');
    });
  });
});
