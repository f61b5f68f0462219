/**
 * POST /v1/audio/transcriptions and /v1/audio/translations (multipart: `file`, `model`, `response_format`
 * json | text | srt | verbose_json | vtt) and /v1/audio/speech (JSON in, audio bytes out, streamed as they
 * arrive), OpenAI's Audio API (https://platform.openai.com/docs/api-reference/audio), on channels whose
 * adapter declares them.
 * Billing: transcriptions and translations per second of input audio at the model's per-second price (the
 * answer's `duration` or `usage.seconds`, else the last SRT/VTT cue, else the file: see ../audio-duration.ts),
 * or by `usage` tokens (gpt-4o-transcribe) when the model has no per-second price; speech per character of
 * `input` at the per-character price.
 */
import type { Readable } from 'node:stream';
import { ApiError } from '../../core/errors.js';
import type { JsonObject } from '../../providers/types.js';
import { type TokenCounts, ZERO_TOKENS } from '../accounting.js';
import { fileSeconds, subtitleSeconds } from '../audio-duration.js';
import type { ParsedForm } from '../multipart.js';
import { bodyRecord, optionalField, requireField } from '../surface-checks.js';
import type { Answer, Endpoint } from './endpoint.js';
import { formOf, mediaJson, requireFile, requireFormField, sendMedia, usageTokens } from './media.js';

const FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'] as const;
type Format = (typeof FORMATS)[number];

type AudioCall = { form: ParsedForm; model: string; format: Format };

/** A transcript: JSON (parsed, with its bytes) or text (text, srt, vtt) with the upstream's content type. */
type Transcript =
  | { kind: 'json'; body: JsonObject; raw: string | undefined }
  | { kind: 'text'; text: string; contentType: string };

/** Seconds of the input audio: what the answer says, else the transcript's last cue, else the file. */
function audioSeconds(call: AudioCall, result: Transcript): { seconds: number; estimated: boolean } {
  if (result.kind === 'json') {
    if (typeof result.body.duration === 'number') return { seconds: result.body.duration, estimated: false };
    const usage = result.body.usage as Record<string, unknown> | undefined;
    if (usage && usage.type === 'duration' && typeof usage.seconds === 'number')
      return { seconds: usage.seconds, estimated: false };
  } else if (call.format === 'srt' || call.format === 'vtt') {
    const seconds = subtitleSeconds(result.text);
    if (seconds !== undefined) return { seconds, estimated: true };
  }
  const file = call.form.files.find((f) => f.field === 'file');
  return { seconds: file ? fileSeconds(file.data) : 0, estimated: true };
}

function acceptAudio(form: ParsedForm): AudioCall {
  requireFile(form, ['file']);
  const model = requireFormField(form, 'model');
  const format = (form.field('response_format') ?? 'json') as Format;
  if (!FORMATS.includes(format))
    throw new ApiError('validation_failed', `'response_format' must be one of ${FORMATS.join(', ')}`, {
      param: 'response_format',
    });
  return { form, model, format };
}

function audioEndpoint(kind: 'transcriptions' | 'translations'): Endpoint<AudioCall, Transcript> {
  return {
    kind,
    accept: (request) => acceptAudio(formOf(request)),
    model: (call) => call.model,
    streams: () => false,
    estimate: (call) => {
      const file = call.form.files.find((f) => f.field === 'file');
      // Seconds of the file as its size suggests (generous for WAV), for a per-second reservation.
      return { promptTokens: 0, maxOutputTokens: 0, units: { seconds: file ? fileSeconds(file.data) : 0 } };
    },
    sink: () => undefined,
    async attempt(x, attempt): Promise<Transcript> {
      const res = await sendMedia(x, attempt, { api: kind, form: x.call.form });
      if (x.call.format === 'json' || x.call.format === 'verbose_json') {
        const json = await mediaJson(attempt, kind, res);
        x.ledger.markFirstToken();
        return { kind: 'json', ...json };
      }
      const text = await res.body.text();
      x.ledger.markFirstToken();
      const type = res.headers['content-type'];
      return { kind: 'text', text, contentType: typeof type === 'string' ? type : 'text/plain; charset=utf-8' };
    },
    answer(call, result): Answer {
      const { seconds, estimated } = audioSeconds(call, result);
      const base = result.kind === 'json' ? usageTokens(result.body.usage) : ZERO_TOKENS;
      const tokens: TokenCounts = { ...base, estimated: base.estimated || estimated, units: { seconds } };
      if (result.kind === 'json') return { body: result.body, raw: result.raw, tokens };
      return { body: result.text, raw: result.text, contentType: result.contentType, tokens };
    },
  };
}

export const transcriptions = audioEndpoint('transcriptions');
export const translations = audioEndpoint('translations');

type SpeechCall = { json: JsonObject; model: string; characters: number };
type Speech = { audio: Readable; contentType: string };

export const speech: Endpoint<SpeechCall, Speech> = {
  kind: 'speech',
  accept(request) {
    const body = bodyRecord(request.body);
    requireField(body, 'model', ['string']);
    requireField(body, 'input', ['string']);
    requireField(body, 'voice', ['string', 'object']);
    for (const name of ['response_format', 'instructions', 'stream_format']) optionalField(body, name, ['string']);
    optionalField(body, 'speed', ['number']);
    // Characters as a person counts them (code points), as the price is per character.
    const characters = [...(body.input as string)].length;
    return { json: body as JsonObject, model: body.model as string, characters };
  },
  model: (call) => call.model,
  streams: () => false,
  estimate: (call) => ({
    promptTokens: Math.ceil(call.characters / 2),
    maxOutputTokens: 0,
    units: { characters: call.characters },
  }),
  sink: () => undefined,
  async attempt(x, attempt) {
    const res = await sendMedia(x, attempt, { api: 'speech', json: x.call.json });
    x.ledger.markFirstToken();
    const type = res.headers['content-type'];
    return { audio: res.body, contentType: typeof type === 'string' ? type : 'application/octet-stream' };
  },
  answer: (call, result) => ({
    body: result.audio,
    contentType: result.contentType,
    // The audio goes to the client as it arrives; the request is billed by its input, known already.
    tokens: { ...ZERO_TOKENS, units: { characters: call.characters } },
    logged: { audio: result.contentType, characters: call.characters },
  }),
};
