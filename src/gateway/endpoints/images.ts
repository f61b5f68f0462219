/**
 * POST /v1/images/generations (JSON) and /v1/images/edits (multipart): OpenAI's Images API
 * (https://platform.openai.com/docs/api-reference/images) on channels whose adapter declares
 * `image_generations` / `image_edits` (OpenAI, Azure OpenAI, OpenAI-compatible; Gemini's Imagen generates).
 * Billing: per image at the model's image price for the request's `size/quality` when it has one (the
 * images the answer holds), else the answer's token usage (gpt-image-1) at the token prices.
 */
import type { JsonObject } from '../../providers/types.js';
import type { TokenCounts } from '../accounting.js';
import type { ParsedForm } from '../multipart.js';
import { bodyRecord, optionalField, requireField } from '../surface-checks.js';
import type { BillableUnits } from '../unit-prices.js';
import type { Answer, Endpoint } from './endpoint.js';
import {
  formInteger,
  formOf,
  loggedImages,
  mediaJson,
  requireFile,
  requireFormField,
  sendMedia,
  usageTokens,
} from './media.js';

/** OpenAI's default image model when a request names none. */
export const DEFAULT_IMAGE_MODEL = 'dall-e-2';

type Images = { body: JsonObject; raw: string | undefined };

interface ImageShape {
  model: string;
  prompt: string;
  n: number;
  size: string;
  quality: string;
}

function imageUnits(shape: ImageShape, images: number): BillableUnits {
  return { images, imageVariant: { size: shape.size, quality: shape.quality } };
}

/** The answer: the images as they came, billed per image (those returned) or by the usage's tokens. */
function imagesAnswer(shape: ImageShape, result: Images): Answer {
  const data = result.body.data;
  const count = Array.isArray(data) ? data.length : 0;
  const tokens: TokenCounts = { ...usageTokens(result.body.usage), units: imageUnits(shape, count) };
  return { body: result.body, raw: result.raw, tokens, logged: loggedImages(result.body) };
}

const estimateImages = (shape: ImageShape) => ({
  promptTokens: Math.ceil(Buffer.byteLength(shape.prompt) / 2),
  maxOutputTokens: null,
  units: imageUnits(shape, shape.n),
});

type GenerationCall = { json: JsonObject; shape: ImageShape };

export const imageGenerations: Endpoint<GenerationCall, Images> = {
  kind: 'image_generations',
  accept(request) {
    const body = bodyRecord(request.body);
    requireField(body, 'prompt', ['string']);
    for (const name of ['model', 'size', 'quality', 'response_format', 'style', 'user'])
      optionalField(body, name, ['string']);
    optionalField(body, 'n', ['integer']);
    const model = typeof body.model === 'string' && body.model !== '' ? body.model : DEFAULT_IMAGE_MODEL;
    const json = { ...(body as JsonObject), model };
    const shape: ImageShape = {
      model,
      prompt: body.prompt as string,
      n: typeof body.n === 'number' ? Math.max(1, body.n) : 1,
      size: typeof body.size === 'string' ? body.size : '1024x1024',
      quality: typeof body.quality === 'string' ? body.quality : 'standard',
    };
    return { json, shape };
  },
  model: (call) => call.shape.model,
  streams: () => false,
  estimate: (call) => estimateImages(call.shape),
  sink: () => undefined,
  async attempt(x, attempt) {
    const res = await sendMedia(x, attempt, { api: 'image_generations', json: x.call.json });
    const result = await mediaJson(attempt, 'image_generations', res);
    x.ledger.markFirstToken();
    return result;
  },
  answer: (call, result) => imagesAnswer(call.shape, result),
};

type EditCall = { form: ParsedForm; shape: ImageShape };

export const imageEdits: Endpoint<EditCall, Images> = {
  kind: 'image_edits',
  accept(request) {
    const form = formOf(request);
    const prompt = requireFormField(form, 'prompt');
    requireFile(form, ['image', 'image[]']);
    const model = form.field('model') || DEFAULT_IMAGE_MODEL;
    const shape: ImageShape = {
      model,
      prompt,
      n: formInteger(form, 'n', 1, 10) ?? 1,
      size: form.field('size') ?? '1024x1024',
      quality: form.field('quality') ?? 'standard',
    };
    return { form, shape };
  },
  model: (call) => call.shape.model,
  streams: () => false,
  estimate: (call) => estimateImages(call.shape),
  sink: () => undefined,
  async attempt(x, attempt) {
    const res = await sendMedia(x, attempt, { api: 'image_edits', form: x.call.form });
    const result = await mediaJson(attempt, 'image_edits', res);
    x.ledger.markFirstToken();
    return result;
  },
  answer: (call, result) => imagesAnswer(call.shape, result),
};
