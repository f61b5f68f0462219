/**
 * POST /v1/completions: OpenAI's legacy Completions API, streamed or not. A channel whose adapter declares
 * `completions`, serving a model that lists the `completions` capability (a completion model such as
 * gpt-3.5-turbo-instruct, or a base model on vLLM), gets the client's body as it came and its answer goes
 * back as it came; any other channel gets the prompt as a chat request and its answer is translated
 * (./completions-translate.ts). Failover may mix both: each attempt decides by its own target.
 */
import type { ApiError } from '../../core/errors.js';
import { normaliseUsage } from '../../providers/shared/usage.js';
import type { ChatRequest, JsonObject } from '../../providers/types.js';
import { fromUsage, OutputAccumulator, type TokenCounts } from '../accounting.js';
import { completeChat, streamChat } from '../pipeline/chat-attempt.js';
import type { Attempt } from '../pipeline/dispatch.js';
import { UpstreamFailure } from '../pipeline/failure.js';
import { estimateCompletion } from '../pipeline/settle.js';
import { bodyRecord, optionalField, requireField } from '../surface-checks.js';
import { type RelayedCompletions, relayCompletionsStream } from './completions-relay.js';
import { type CompletionsBody, chatToCompletion, completionsSink, completionsToChat } from './completions-translate.js';
import type { Endpoint } from './endpoint.js';
import { forwardJson, servesForwarded } from './forwarded.js';

export interface CompletionsCall extends RelayedCompletions {
  body: CompletionsBody;
  /** The chat form, or why the body has none (only a channel with a completions API can serve it). */
  translated: { chat: ChatRequest; prompt: string } | ApiError;
}

type CompletionsResult = { body: JsonObject; raw: string | undefined; tokens: TokenCounts | Promise<TokenCounts> };

/** Whether this attempt's target serves completions natively. */
function native(attempt: Attempt): boolean {
  return (
    servesForwarded(attempt.target.channel.adapter, 'completions') &&
    attempt.target.model.capabilities.includes('completions')
  );
}

/** The chat form for a translated attempt, or a retryable refusal (another target may serve it natively). */
function chatOf(call: CompletionsCall): { chat: ChatRequest; prompt: string } {
  const { translated } = call;
  if ('chat' in translated) return translated;
  throw new UpstreamFailure({ status: 400, code: 'bad_request', message: translated.message, retryable: true });
}

/** Tokens of a native answer: its usage, else the tokenizer's count of the prompt and the texts. */
function nativeTokens(call: CompletionsCall, body: JsonObject): TokenCounts | Promise<TokenCounts> {
  const usage = normaliseUsage(body.usage);
  if (usage) return fromUsage(usage);
  const output = new OutputAccumulator();
  for (const choice of Array.isArray(body.choices) ? body.choices : [])
    if (choice && typeof choice === 'object' && !Array.isArray(choice) && typeof choice.text === 'string')
      output.addText(choice.text);
  return output.estimate(call.estimateAs);
}

async function complete(x: Parameters<Endpoint<CompletionsCall, CompletionsResult>['attempt']>[0], attempt: Attempt) {
  const { call } = x;
  if (native(attempt)) {
    const { body, raw } = await forwardJson(x, attempt, 'completions', call.body);
    return { body, raw, tokens: nativeTokens(call, body) };
  }
  const { chat, prompt } = chatOf(call);
  const { completion } = await completeChat(x.upstream, chat, x.ledger, attempt, false);
  return {
    body: chatToCompletion(completion, call.body.model, call.body.echo === true ? prompt : null),
    raw: undefined,
    tokens: completion.usage ? fromUsage(completion.usage) : estimateCompletion(chat, completion),
  };
}

export const completions: Endpoint<CompletionsCall, CompletionsResult | undefined> = {
  kind: 'completions',
  accept(request) {
    const body = bodyRecord(request.body);
    requireField(body, 'model', ['string']);
    optionalField(body, 'prompt', ['string', 'array']);
    optionalField(body, 'stream', ['boolean']);
    optionalField(body, 'echo', ['boolean']);
    for (const field of ['max_tokens', 'n', 'best_of', 'seed', 'logprobs'])
      optionalField(body, field, field === 'logprobs' ? ['integer', 'boolean'] : ['integer']);
    for (const field of ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty'])
      optionalField(body, field, ['number']);
    optionalField(body, 'stop', ['string', 'array']);
    optionalField(body, 'stream_options', ['object']);
    const call = body as CompletionsBody;
    const translated = completionsToChat(call);
    const estimateAs: ChatRequest =
      'chat' in translated
        ? translated.chat
        : { model: call.model, messages: [{ role: 'user', content: JSON.stringify(call.prompt ?? '') }] };
    const options = call.stream_options;
    const includeUsage =
      options !== null && typeof options === 'object' && !Array.isArray(options) && options.include_usage === true;
    return { body: call, translated, estimateAs, includeUsage };
  },
  model: (call) => call.body.model,
  streams: (call) => call.body.stream === true,
  estimate: (call) => {
    const prompt = call.estimateAs.messages[0]?.content;
    const n = typeof call.body.n === 'number' ? call.body.n : 1;
    const bestOf = typeof call.body.best_of === 'number' ? call.body.best_of : 1;
    return {
      promptTokens: Math.ceil(Buffer.byteLength(typeof prompt === 'string' ? prompt : '') / 2),
      maxOutputTokens: typeof call.body.max_tokens === 'number' && call.body.max_tokens > 0 ? call.body.max_tokens : 16,
      choices: Math.max(n, bestOf),
    };
  },
  sink(call) {
    const translated = 'chat' in call.translated ? call.translated : null;
    const echo = call.body.echo === true && translated ? translated.prompt : null;
    // Native attempts forward the upstream's payloads as they are; translated ones write completion chunks.
    return { ...completionsSink(call.body.model, call.includeUsage, echo), raw: (data) => `data: ${data}\n\n` };
  },
  attempt(x, attempt) {
    const { sink } = x;
    if (!sink) return complete(x, attempt);
    if (native(attempt)) return relayCompletionsStream(x, sink, attempt);
    const { chat } = chatOf(x.call);
    return streamChat(x.upstream, chat, x.ledger, sink, x.client, attempt);
  },
  answer(_call, result) {
    if (!result) throw new Error('a non-stream completions attempt returned no answer');
    return result;
  },
};
