/**
 * Legacy OpenAI Completions (https://platform.openai.com/docs/api-reference/completions) in and out of the
 * canonical chat form, for channels without a completions API: the prompt becomes one user message, the
 * answer's message text becomes `choices[].text` (`echo` puts the prompt before it), stream chunks become
 * `text_completion` chunks. What chat cannot express (several prompts, token-id prompts, `suffix`,
 * `logprobs`) is refused for such channels only: a channel with a completions API can still serve it.
 */
import { ApiError } from '../../core/errors.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  ChatUsage,
  FinishReason,
  JsonObject,
  UpstreamErrorInfo,
} from '../../providers/types.js';
import type { StreamSink } from '../pipeline/chat-attempt.js';

/** A /v1/completions body as the client sent it (checked). */
export type CompletionsBody = JsonObject & { model: string; prompt?: unknown; stream?: unknown };

/** Chat's finish reasons as a completion reports them (no tool calls in a completion). */
function completionFinish(reason: FinishReason | null): string | null {
  if (reason === 'length' || reason === 'content_filter' || reason === null) return reason;
  return 'stop';
}

/** The single prompt text of a body, or why it has none. */
function promptText(body: CompletionsBody): string | ApiError {
  const { prompt } = body;
  if (prompt === undefined || prompt === null) return '<|endoftext|>';
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  return new ApiError('bad_request', 'Only a single text prompt can be translated to chat for this model', {
    param: 'prompt',
  });
}

/** The canonical chat request for a completions body, or the refusal for channels that need one. */
export function completionsToChat(body: CompletionsBody): { chat: ChatRequest; prompt: string } | ApiError {
  const prompt = promptText(body);
  if (prompt instanceof ApiError) return prompt;
  for (const param of ['suffix', 'logprobs'] as const)
    if (body[param] !== undefined && body[param] !== null && body[param] !== false)
      return new ApiError('bad_request', `'${param}' cannot be translated to chat for this model`, { param });
  const chat: ChatRequest = { model: body.model, messages: [{ role: 'user', content: prompt }] };
  for (const field of [
    'max_tokens',
    'temperature',
    'top_p',
    'n',
    'stop',
    'seed',
    'presence_penalty',
    'frequency_penalty',
    'logit_bias',
    'user',
  ] as const)
    if (body[field] !== undefined) (chat as Record<string, unknown>)[field] = body[field];
  // A completion's default output cap is 16 tokens (OpenAI's documented default).
  if (chat.max_tokens === undefined) chat.max_tokens = 16;
  if (body.stream === true) {
    chat.stream = true;
    const options = body.stream_options;
    if (options && typeof options === 'object' && !Array.isArray(options)) chat.stream_options = { ...options };
  }
  return { chat, prompt };
}

/** A chat completion as a legacy `text_completion` object under the requested model name. */
export function chatToCompletion(completion: ChatCompletion, model: string, echoPrompt: string | null): JsonObject {
  const out: JsonObject = {
    id: `cmpl-${completion.id.replace(/^chatcmpl-/, '')}`,
    object: 'text_completion',
    created: completion.created,
    model,
    choices: completion.choices.map((choice) => ({
      text: (echoPrompt ?? '') + (choice.message.content ?? ''),
      index: choice.index,
      logprobs: null,
      finish_reason: completionFinish(choice.finish_reason),
    })),
  };
  if (completion.usage) out.usage = usageObject(completion.usage);
  return out;
}

function usageObject(usage: ChatUsage): Record<string, number> {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
  };
}

/** The OpenAI stream error event (as /v1/chat/completions sends it). */
export function openAiStreamError(info: UpstreamErrorInfo): string {
  const type = info.status === 429 ? 'rate_limit_error' : 'api_error';
  return `data: ${JSON.stringify({ error: { message: info.message, type, param: null, code: info.code } })}\n\n`;
}

/**
 * The writer of a translated completions stream: each chat chunk's text as a `text_completion` chunk
 * (reasoning is not part of a completion), the usage chunk only when the client asked for it, `[DONE]`.
 */
export function completionsSink(model: string, includeUsage: boolean, echoPrompt: string | null): StreamSink {
  let echoed = echoPrompt === null;
  const frame = (chunk: ChatCompletionChunk, choices: JsonObject[], usage?: ChatUsage | null) =>
    `data: ${JSON.stringify({
      id: `cmpl-${chunk.id.replace(/^chatcmpl-/, '')}`,
      object: 'text_completion',
      created: chunk.created,
      model,
      choices,
      ...(usage ? { usage: usageObject(usage) } : {}),
    })}\n\n`;
  return {
    acceptsRaw: false,
    raw: () => '',
    chunk(chunk) {
      if (chunk.choices.length === 0) return chunk.usage && includeUsage ? frame(chunk, [], chunk.usage) : '';
      const choices: JsonObject[] = [];
      for (const choice of chunk.choices) {
        const content = choice.delta.content ?? '';
        if (content === '' && choice.finish_reason === null && echoed) continue;
        const prefix = echoed ? '' : (echoPrompt ?? '');
        echoed = true;
        choices.push({
          text: prefix + content,
          index: choice.index,
          logprobs: null,
          finish_reason: completionFinish(choice.finish_reason),
        });
      }
      const text = choices.length > 0 ? frame(chunk, choices) : '';
      // Some upstreams put usage on a chunk with choices: the client gets it as OpenAI sends it, on its own.
      return chunk.usage && includeUsage ? text + frame(chunk, [], chunk.usage) : text;
    },
    end: () => 'data: [DONE]\n\n',
    error: openAiStreamError,
  };
}
