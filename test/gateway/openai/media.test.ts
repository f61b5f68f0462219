/**
 * Images and audio through AI Hub with the official `openai` SDK as the client (images.generate,
 * images.edit with a file, audio.transcriptions/translations.create, audio.speech.create), against fakes
 * of OpenAI, Azure OpenAI and Gemini (Imagen): what the upstream received, what the client got, and the
 * per-unit cost in the request log. Bad input (multipart too large or malformed, what a provider cannot
 * do) is the client's 4xx in OpenAI's shape, never a 5xx and never held against the channel.
 */
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import { type MediaFake, SPEECH_BYTES, startMediaFake, wavFile } from '../../support/fakes/media.js';
import {
  addChannel,
  addModel,
  type GatewayUnderTest,
  logOf,
  openaiClient,
  startGateway,
} from '../../support/gateway.js';

const IMAGE_PRICES = { image: 40_000, images: { '1024x1024/hd': 80_000 } };
/** micro-USD per second of audio, per character of speech, per search unit. */
const SECOND = 100;
const CHARACTER = 15;

type WithId<T> = { data: T; response: Response };

describe.each(ENGINES)('images and audio with the OpenAI SDK (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let openai: OpenAI;
  const fakes: Record<'openai' | 'azure' | 'gemini', MediaFake> = {} as never;
  const channels: Record<string, string> = {};

  const run = async <T>(promise: { withResponse(): Promise<WithId<T>> }) => {
    const { data, response } = await promise.withResponse();
    return { data, id: response.headers.get('x-request-id'), headers: response.headers };
  };
  const post = async (path: string, body: string | FormData, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, ...headers },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) as { error: Record<string, unknown> } };
  };
  const form = (fields: Record<string, string>, file?: { field: string; data: Buffer; name: string }) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    if (file) data.append(file.field, new Blob([new Uint8Array(file.data)], { type: 'audio/wav' }), file.name);
    return data;
  };

  beforeAll(async () => {
    gw = await startGateway(engine, { env: { AIHUB_UPLOAD_LIMIT_MB: '1' } });
    openai = openaiClient(gw);
    for (const flavor of ['openai', 'azure', 'gemini'] as const) {
      const fake = await startMediaFake(flavor);
      fakes[flavor] = fake;
      const type = flavor === 'azure' ? 'azure-openai' : flavor;
      const channel = await addChannel(gw, { name: `media-${flavor}`, type, baseUrl: fake.baseUrl, keys: [fake.key] });
      channels[flavor] = channel.id;
      await addModel(gw, {
        name: `img-${flavor}`,
        unitPrices: IMAGE_PRICES,
        routes: [
          { channelId: channel.id, upstreamModel: flavor === 'gemini' ? 'imagen-4.0-generate-001' : 'dall-e-3' },
        ],
      });
      await addModel(gw, {
        name: `stt-${flavor}`,
        unitPrices: { second: SECOND },
        routes: [{ channelId: channel.id, upstreamModel: 'whisper-1' }],
      });
      await addModel(gw, {
        name: `tts-${flavor}`,
        unitPrices: { character: CHARACTER },
        routes: [{ channelId: channel.id, upstreamModel: 'tts-1' }],
      });
    }
    // gpt-image-1 reports tokens and has no image price: billed by tokens.
    await addModel(gw, {
      name: 'img-tokens',
      inputPrice: 5_000_000,
      outputPrice: 40_000_000,
      routes: [{ channelId: channels.openai as string, upstreamModel: 'gpt-image-1' }],
    });
  });
  afterAll(async () => {
    for (const fake of Object.values(fakes)) await fake?.close();
    await gw?.t.close();
  });

  it.each(['openai', 'azure'] as const)(
    'images.generate on %s: answer as it came, billed per image by size/quality',
    async (flavor) => {
      const { data, id } = await run(
        openai.images.generate({
          model: `img-${flavor}`,
          prompt: 'a sea otter',
          size: '1024x1024',
          quality: 'hd',
          response_format: 'b64_json',
        }),
      );
      expect(data.data?.[0]?.b64_json).toMatch(/^iVBOR/);
      expect(data.data?.[0]?.revised_prompt).toContain('otter');
      const sent = fakes[flavor].last();
      if (flavor === 'openai') {
        expect(sent.path).toBe('/v1/images/generations');
        expect(sent.body).toMatchObject({ model: 'dall-e-3', prompt: 'a sea otter', quality: 'hd' });
      } else {
        expect(sent.path).toBe('/openai/deployments/dall-e-3/images/generations');
        expect(sent.query.get('api-version')).toBeTruthy();
        expect((sent.body as Record<string, unknown>).model).toBeUndefined();
      }
      const row = await logOf(gw.t, id);
      expect(row).toMatchObject({
        status: 200,
        endpoint: 'image_generations',
        channelId: channels[flavor],
        costMicros: 80_000,
      });
    },
  );

  it('images.generate on Gemini: Imagen :predict with an aspect ratio; two images at the default price', async () => {
    const { data, id } = await run(
      openai.images.generate({ model: 'img-gemini', prompt: 'a fox', n: 2, size: '1792x1024' }),
    );
    expect(data.data).toHaveLength(2);
    expect(data.data?.[0]?.b64_json).toMatch(/^iVBOR/);
    const sent = fakes.gemini.last();
    expect(sent.path).toBe('/v1beta/models/imagen-4.0-generate-001:predict');
    expect(sent.body).toEqual({
      instances: [{ prompt: 'a fox' }],
      parameters: { sampleCount: 2, aspectRatio: '16:9' },
    });
    const row = await logOf(gw.t, id);
    expect(row).toMatchObject({ status: 200, endpoint: 'image_generations', costMicros: 2 * 40_000 });
  });

  it('a model without an image price is billed by the answer’s tokens (gpt-image-1)', async () => {
    const { id } = await run(openai.images.generate({ model: 'img-tokens', prompt: 'a cat' }));
    const row = await logOf(gw.t, id);
    expect(row).toMatchObject({ promptTokens: 50, completionTokens: 50, costMicros: 250 + 2000 });
  });

  it('Gemini cannot make every size or a url: 400 naming the field and the provider, not sent', async () => {
    const before = fakes.gemini.requests.length;
    for (const [body, param] of [
      [{ size: '1000x300' }, 'size'],
      [{ response_format: 'url' }, 'response_format'],
    ] as const) {
      const res = await post('/v1/images/generations', JSON.stringify({ model: 'img-gemini', prompt: 'x', ...body }), {
        'content-type': 'application/json',
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ param, type: 'invalid_request_error' });
      expect(res.body.error.message).toContain('Gemini');
    }
    expect(fakes.gemini.requests.length).toBe(before);
  });

  it.each(['openai', 'azure'] as const)(
    'images.edit with a file on %s: the form goes upstream with the upstream model',
    async (flavor) => {
      const image = await toFile(Buffer.from('fake png bytes'), 'otter.png', { type: 'image/png' });
      const { data, id } = await run(openai.images.edit({ model: `img-${flavor}`, image, prompt: 'add a hat' }));
      expect(data.data?.[0]?.b64_json).toMatch(/^iVBOR/);
      const received = fakes[flavor].forms.at(-1);
      expect(received?.fields).toMatchObject({ prompt: 'add a hat' });
      if (flavor === 'openai') expect(received?.fields.model).toBe('dall-e-3');
      else expect(received?.fields.model).toBeUndefined();
      expect(received?.files).toEqual([{ field: 'image', filename: 'otter.png', type: 'image/png' }]);
      const row = await logOf(gw.t, id);
      expect(row).toMatchObject({ status: 200, endpoint: 'image_edits', costMicros: 40_000 });
    },
  );

  it('image edits on a Gemini channel: 400 naming the provider, the channel not blamed', async () => {
    const res = await post(
      '/v1/images/edits',
      form({ model: 'img-gemini', prompt: 'x' }, { field: 'image', data: Buffer.from('png'), name: 'a.png' }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/gemini.*image edits/);
    const channel = await gw.call<{ health: { lastError: string | null; successRate: number | null } }>(
      'GET',
      `/api/admin/channels/${channels.gemini}`,
      { token: gw.admin.token },
    );
    expect(channel.status).toBe(200);
    // Not recorded as a failure of the channel.
    expect(channel.body.health.lastError).toBeNull();
    // The channel still serves what it can.
    const ok = await run(openai.images.generate({ model: 'img-gemini', prompt: 'a fox' }));
    expect(ok.data.data).toHaveLength(2);
  });

  it.each(['openai', 'azure'] as const)(
    'audio.transcriptions on %s: verbose_json duration billed per second',
    async (flavor) => {
      const file = await toFile(wavFile(1), 'speech.wav', { type: 'audio/wav' });
      const { data, id } = await run(
        openai.audio.transcriptions.create({ model: `stt-${flavor}`, file, response_format: 'verbose_json' }),
      );
      expect(data.duration).toBeCloseTo(8.47);
      const received = fakes[flavor].forms.at(-1);
      expect(received?.fields.response_format).toBe('verbose_json');
      expect(received?.files[0]).toMatchObject({ field: 'file', filename: 'speech.wav' });
      const row = await logOf(gw.t, id);
      expect(row).toMatchObject({
        status: 200,
        endpoint: 'transcriptions',
        estimated: false,
        costMicros: Math.ceil(8.470000267028809 * SECOND),
      });
    },
  );

  it('transcriptions: json usage.seconds; text estimated from the WAV; srt from its last cue', async () => {
    const file = () => toFile(wavFile(3), 'speech.wav', { type: 'audio/wav' });
    const json = await run(openai.audio.transcriptions.create({ model: 'stt-openai', file: await file() }));
    expect(json.data.text).toContain('wildest idea');
    expect(await logOf(gw.t, json.id)).toMatchObject({ costMicros: 9 * SECOND, estimated: false });

    const text = await run(
      openai.audio.transcriptions.create({ model: 'stt-openai', file: await file(), response_format: 'text' }),
    );
    expect(text.data).toBe('Hello there. Goodbye.\n');
    expect(text.headers.get('content-type')).toContain('text/plain');
    expect(await logOf(gw.t, text.id)).toMatchObject({ costMicros: 3 * SECOND, estimated: true });

    const srt = await run(
      openai.audio.transcriptions.create({ model: 'stt-openai', file: await file(), response_format: 'srt' }),
    );
    expect(srt.data).toContain('00:00:02,000 --> 00:00:04,500');
    expect(await logOf(gw.t, srt.id)).toMatchObject({ costMicros: 450, estimated: true });
  });

  it('audio.translations on OpenAI', async () => {
    const file = await toFile(wavFile(1), 'french.wav', { type: 'audio/wav' });
    const { data, id } = await run(openai.audio.translations.create({ model: 'stt-openai', file }));
    expect(data.text).toContain('wildest idea');
    expect(fakes.openai.last().path).toBe('/v1/audio/translations');
    expect(await logOf(gw.t, id)).toMatchObject({ status: 200, endpoint: 'translations', costMicros: 9 * SECOND });
  });

  it('transcriptions on a Gemini channel: 400 naming the provider', async () => {
    const res = await post(
      '/v1/audio/transcriptions',
      form({ model: 'stt-gemini' }, { field: 'file', data: wavFile(1), name: 'a.wav' }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/gemini.*audio transcriptions/);
  });

  it.each(['openai', 'azure'] as const)(
    'audio.speech on %s: the audio bytes streamed with their type, billed per character',
    async (flavor) => {
      const input = 'Hello, 世界!';
      const { data, id, headers } = await run(
        openai.audio.speech.create({ model: `tts-${flavor}`, input, voice: 'alloy' }),
      );
      expect(headers.get('content-type')).toBe('audio/mpeg');
      expect(Buffer.from(await data.arrayBuffer()).equals(SPEECH_BYTES)).toBe(true);
      const sent = fakes[flavor].last();
      expect(sent.path).toMatch(/audio\/speech$/);
      expect(sent.body).toMatchObject({ input, voice: 'alloy' });
      expect(await logOf(gw.t, id)).toMatchObject({ status: 200, endpoint: 'speech', costMicros: 10 * CHARACTER });
    },
  );

  it('audio.speech broken off by the upstream mid-way: the client sees the cut, the log says 502', async () => {
    const res = await fetch(`${gw.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-openai', input: 'break off', voice: 'alloy' }),
    });
    // The headers went out with the first bytes; the body then ends in an error, not in a short 'complete' file.
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    const id = res.headers.get('x-request-id') ?? '';
    expect(await logOf(gw.t, id)).toMatchObject({ status: 502, endpoint: 'speech', errorCode: 'upstream_error' });
  });

  it('bad multipart input: a clear 4xx in OpenAI shape, never a 5xx', async () => {
    // Over the upload limit (1 MiB in this app).
    const big = await post(
      '/v1/audio/transcriptions',
      form({ model: 'stt-openai' }, { field: 'file', data: Buffer.alloc(1024 * 1024 + 10), name: 'big.wav' }),
    );
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ code: 'payload_too_large', param: 'file' });
    // Not multipart.
    const json = await post('/v1/audio/transcriptions', JSON.stringify({ model: 'stt-openai' }), {
      'content-type': 'application/json',
    });
    expect(json.status).toBe(415);
    // Malformed: the boundary never closes.
    const broken = await post(
      '/v1/audio/transcriptions',
      '--XYZ\r\nContent-Disposition: form-data; name="model"\r\n\r\nstt',
      {
        'content-type': 'multipart/form-data; boundary=XYZ',
      },
    );
    expect(broken.status).toBe(400);
    // No file; no model; a bad response_format.
    const noFile = await post('/v1/audio/transcriptions', form({ model: 'stt-openai' }));
    expect(noFile).toMatchObject({ status: 400, body: { error: { param: 'file' } } });
    const noModel = await post(
      '/v1/audio/transcriptions',
      form({}, { field: 'file', data: wavFile(1), name: 'a.wav' }),
    );
    expect(noModel).toMatchObject({ status: 400, body: { error: { param: 'model' } } });
    const format = await post(
      '/v1/audio/transcriptions',
      form({ model: 'stt-openai', response_format: 'mp3' }, { field: 'file', data: wavFile(1), name: 'a.wav' }),
    );
    expect(format).toMatchObject({ status: 400, body: { error: { param: 'response_format' } } });
    const speech = await post('/v1/audio/speech', JSON.stringify({ model: 'tts-openai', voice: 'alloy' }), {
      'content-type': 'application/json',
    });
    expect(speech).toMatchObject({ status: 400, body: { error: { param: 'input' } } });
  });

  it('no key: 401; an unknown model: 404', async () => {
    const res = await fetch(`${gw.url}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'img-openai', prompt: 'x' }),
    });
    expect(res.status).toBe(401);
    const unknown = await post(
      '/v1/audio/transcriptions',
      form({ model: 'nope' }, { field: 'file', data: wavFile(1), name: 'a.wav' }),
    );
    expect(unknown.status).toBe(404);
  });

  it('logged bodies keep metadata, never image or audio bytes', async () => {
    const patch = await gw.call('PATCH', '/api/admin/settings', { token: gw.admin.token, body: { logBodies: 'all' } });
    expect(patch.status).toBe(200);
    try {
      const image = await run(
        openai.images.generate({ model: 'img-openai', prompt: 'logged', response_format: 'b64_json' }),
      );
      const file = await toFile(wavFile(1), 'kept.wav', { type: 'audio/wav' });
      const audio = await run(openai.audio.transcriptions.create({ model: 'stt-openai', file }));
      const imageRow = await gw.call<{ responseBody: string }>('GET', `/api/logs/${image.id}`, {
        token: gw.admin.token,
      });
      expect(imageRow.body.responseBody).toContain('base64 characters');
      expect(imageRow.body.responseBody).not.toContain('iVBOR');
      const audioRow = await gw.call<{ requestBody: string }>('GET', `/api/logs/${audio.id}`, {
        token: gw.admin.token,
      });
      expect(JSON.parse(audioRow.body.requestBody)).toMatchObject({
        model: 'stt-openai',
        files: [{ field: 'file', filename: 'kept.wav', type: 'audio/wav', bytes: 16_044 }],
      });
    } finally {
      await gw.call('PATCH', '/api/admin/settings', { token: gw.admin.token, body: { logBodies: 'off' } });
    }
  });

  it('unit prices through the admin API: set, read back, cleared', async () => {
    const created = await addModel(gw, {
      name: 'priced-units',
      unitPrices: { searchUnit: 2000, images: { '512x512': 10 } },
    });
    expect(created.unitPrices).toEqual({ searchUnit: 2000, images: { '512x512': 10 } });
    const bad = await gw.call('PATCH', `/api/admin/models/${created.id}`, {
      token: gw.admin.token,
      body: { unitPrices: { second: -1 } },
    });
    expect(bad.status).toBe(400);
    const cleared = await gw.call<{ unitPrices: unknown }>('PATCH', `/api/admin/models/${created.id}`, {
      token: gw.admin.token,
      body: { unitPrices: null },
    });
    expect(cleared.body.unitPrices).toBeNull();
  });
});
