/**
 * POST /v1/moderations: OpenAI's moderation API (https://platform.openai.com/docs/api-reference/moderations)
 * on channels whose adapter declares `moderations`; the answer goes back as the upstream sent it. Without
 * a `model` the request routes to `omni-moderation-latest`, OpenAI's default. The upstream reports no
 * usage: the input's text is counted by the tokenizer and billed at the model's input price (most
 * operators price moderation models at zero, as OpenAI does).
 */
import type { JsonObject } from '../../providers/types.js';
import { countTokensOf, type TokenCounts } from '../accounting.js';
import { bodyRecord, optionalField, requireField, requireItems } from '../surface-checks.js';
import type { Endpoint } from './endpoint.js';
import { forwardJson, notServed, servesForwarded } from './forwarded.js';

/** OpenAI's default moderation model. */
export const DEFAULT_MODERATION_MODEL = 'omni-moderation-latest';

type Moderated = { body: JsonObject; raw: string | undefined };

/** The texts of a moderation input: a string, strings, or multimodal parts (`{type:'text', text}`). */
function inputTexts(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  const texts: string[] = [];
  if (Array.isArray(input))
    for (const item of input) {
      if (typeof item === 'string') texts.push(item);
      else if (item && typeof item === 'object' && typeof (item as { text?: unknown }).text === 'string')
        texts.push((item as { text: string }).text);
    }
  return texts;
}

async function inputTokens(input: unknown): Promise<TokenCounts> {
  let prompt = 0;
  for (const count of await countTokensOf(inputTexts(input))) prompt += count;
  return { prompt, completion: 0, cached: 0, reasoning: 0, estimated: true };
}

export const moderations: Endpoint<JsonObject & { model: string }, Moderated> = {
  kind: 'moderations',
  accept(request) {
    const body = bodyRecord(request.body);
    requireField(body, 'input', ['string', 'array']);
    if (Array.isArray(body.input)) requireItems(body, 'input', ['string', 'object']);
    optionalField(body, 'model', ['string']);
    const model = typeof body.model === 'string' && body.model !== '' ? body.model : DEFAULT_MODERATION_MODEL;
    return { ...(body as JsonObject), model };
  },
  model: (body) => body.model,
  streams: () => false,
  estimate: (body) => ({ promptTokens: Math.ceil(JSON.stringify(body.input ?? '').length / 2), maxOutputTokens: 0 }),
  sink: () => undefined,
  attempt(x, attempt) {
    if (!servesForwarded(attempt.target.channel.adapter, 'moderations')) throw notServed(attempt, 'moderations');
    return forwardJson(x, attempt, 'moderations', x.call);
  },
  answer: (body, result) => ({ body: result.body, raw: result.raw, tokens: inputTokens(body.input) }),
};
