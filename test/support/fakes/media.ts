/**
 * Fake upstreams of the image and audio APIs: OpenAI's (`/v1/images/*`, `/v1/audio/*`), Azure OpenAI's
 * (the same under `/openai/deployments/{deployment}/…?api-version=`) and Gemini's Imagen
 * (`/v1beta/models/{model}:predict`). They replay test/fixtures/ and record each request; a multipart body
 * is parsed into its fields and files (`forms`).
 */
import { type FakeUpstream, fixtureJson, header, startFakeServer } from './http.js';

export type MediaFlavor = 'openai' | 'azure' | 'gemini';

/** The bytes the fakes answer `audio/speech` with (an MP3 frame header and padding). */
export const SPEECH_BYTES = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(2044, 7)]);

/** A multipart form as a fake received it. */
export interface ReceivedForm {
  fields: Record<string, string>;
  files: Array<{ field: string; filename: string; type: string }>;
}

export interface MediaFake extends FakeUpstream {
  /** The forms of multipart requests, in order (the same index as `requests` has for them). */
  forms: ReceivedForm[];
}

/** A PCM WAV of `seconds` at 8 kHz, 16-bit mono (16,000 bytes a second). */
export function wavFile(seconds: number): Buffer {
  const dataBytes = Math.round(seconds * 16_000);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16_000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.alloc(dataBytes)]);
}

const SRT = '1\n00:00:00,000 --> 00:00:02,000\nHello there.\n\n2\n00:00:02,000 --> 00:00:04,500\nGoodbye.\n';
const VTT = 'WEBVTT\n\n00:00:00.000 --> 00:00:04.500\nHello there. Goodbye.\n';

async function parseForm(raw: string, contentType: string): Promise<ReceivedForm> {
  const data = await new Response(Buffer.from(raw, 'utf8'), { headers: { 'content-type': contentType } }).formData();
  const form: ReceivedForm = { fields: {}, files: [] };
  for (const [name, value] of data.entries()) {
    if (typeof value === 'string') form.fields[name] = value;
    else form.files.push({ field: name, filename: (value as File).name, type: value.type });
  }
  return form;
}

/** Start a media fake of `flavor`; its key is `media-key`. */
export async function startMediaFake(flavor: MediaFlavor): Promise<MediaFake> {
  const forms: ReceivedForm[] = [];
  const key = 'media-key';
  const fake = await startFakeServer({
    key,
    baseUrl: (origin) => (flavor === 'openai' ? `${origin}/v1` : flavor === 'azure' ? origin : `${origin}/v1beta`),
    async handler({ req, res, json, scenario }) {
      if (scenario.name === 'server_error' || scenario.name === 'bad_request') {
        const status = scenario.name === 'server_error' ? 500 : 400;
        json(status, { error: { message: `upstream answered ${status}`, type: 'server_error', code: null } });
        return;
      }
      const authorised =
        flavor === 'azure'
          ? header(req.headers, 'api-key') === key
          : flavor === 'gemini'
            ? header(req.headers, 'x-goog-api-key') === key
            : header(req.headers, 'authorization') === `Bearer ${key}`;
      if (!authorised) {
        json(401, {
          error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' },
        });
        return;
      }
      if (flavor === 'gemini') {
        if (!/^\/v1beta\/models\/[^/]+:predict$/.test(req.path)) {
          json(404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } });
          return;
        }
        json(200, fixtureJson('gemini', 'imagen-predict.json'));
        return;
      }
      const prefix = flavor === 'openai' ? '/v1/' : /^\/openai\/deployments\/[^/]+\//.exec(req.path)?.[0];
      if (!prefix || !req.path.startsWith(prefix) || (flavor === 'azure' && !req.query.get('api-version'))) {
        json(404, { error: { message: `no route ${req.path}`, type: 'invalid_request_error', code: null } });
        return;
      }
      const api = req.path.slice(prefix.length);
      const contentType = header(req.headers, 'content-type') ?? '';
      const form = contentType.startsWith('multipart/form-data') ? await parseForm(req.raw, contentType) : undefined;
      if (form) forms.push(form);
      if (api === 'images/generations') {
        const body = req.body as { model?: string } | undefined;
        json(
          200,
          fixtureJson(
            'openai',
            body?.model === 'gpt-image-1' ? 'images-generation-usage.json' : 'images-generation.json',
          ),
        );
      } else if (api === 'images/edits') {
        json(200, fixtureJson('openai', 'images-generation.json'));
      } else if (api === 'audio/transcriptions' || api === 'audio/translations') {
        const format = form?.fields.response_format ?? 'json';
        if (format === 'verbose_json') json(200, fixtureJson('openai', 'audio-transcription-verbose.json'));
        else if (format === 'json') json(200, fixtureJson('openai', 'audio-transcription.json'));
        else {
          const text = format === 'srt' ? SRT : format === 'vtt' ? VTT : 'Hello there. Goodbye.\n';
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(text);
        }
      } else if (api === 'audio/speech') {
        res.writeHead(200, { 'content-type': 'audio/mpeg', 'transfer-encoding': 'chunked' });
        res.write(SPEECH_BYTES.subarray(0, 1024));
        // `input: "break off"`: the upstream drops the connection after the first chunk.
        const breakOff = (req.body as { input?: string } | undefined)?.input === 'break off';
        setTimeout(() => (breakOff ? res.destroy() : res.end(SPEECH_BYTES.subarray(1024))), 5);
      } else json(404, { error: { message: `no route ${req.path}`, type: 'invalid_request_error', code: null } });
    },
  });
  return Object.assign(fake, { forms });
}
