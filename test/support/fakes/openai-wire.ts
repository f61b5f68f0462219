/**
 * OpenAI-format wire shapes per flavor, generated from a script's canonical answer in the layout of the
 * recorded fixtures: completion bodies, chunk streams (role chunk, deltas, finish chunk, usage chunk or
 * DeepSeek's usage on the finish chunk, Azure's prompt annotation), and usage objects.
 */

import { type CanonicalAnswer, eventData, fragments, isRecord, pieces } from './http.js';
import type { OpenAiFlavor, Script } from './openai-answers.js';

const FILTER_SAFE = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

function usageObject(flavor: OpenAiFlavor, u: CanonicalAnswer['usage']): Record<string, unknown> {
  const counts = { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion };
  switch (flavor) {
    case 'ollama':
      return counts;
    case 'deepseek':
      return {
        ...counts,
        ...(u.reasoning > 0 ? { completion_tokens_details: { reasoning_tokens: u.reasoning } } : {}),
        prompt_cache_hit_tokens: u.cached,
        prompt_cache_miss_tokens: u.prompt - u.cached,
      };
    default:
      return {
        ...counts,
        prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: u.reasoning,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      };
  }
}

function messageOf(flavor: OpenAiFlavor, answer: CanonicalAnswer): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: answer.content ?? (flavor === 'ollama' ? '' : null),
  };
  if (answer.reasoning !== null) message[flavor === 'ollama' ? 'reasoning' : 'reasoning_content'] = answer.reasoning;
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  if (flavor === 'openai' || flavor === 'azure') Object.assign(message, { refusal: null, annotations: [] });
  return message;
}

export function completionBody(flavor: OpenAiFlavor, script: Script, omitUsage: boolean): Record<string, unknown> {
  const { answer, meta } = script;
  const choice: Record<string, unknown> = {
    index: 0,
    message: messageOf(flavor, answer),
    logprobs: null,
    finish_reason: answer.finish,
  };
  if (flavor === 'azure') choice.content_filter_results = FILTER_SAFE;
  const body: Record<string, unknown> = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [choice],
  };
  if (!omitUsage) body.usage = usageObject(flavor, answer.usage);
  if (flavor === 'azure') body.prompt_filter_results = [{ prompt_index: 0, content_filter_results: FILTER_SAFE }];
  if (flavor === 'openai') body.service_tier = 'default';
  body.system_fingerprint = meta.fingerprint;
  return body;
}

const data = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
const DONE = 'data: [DONE]\n\n';

export function chunkEvents(flavor: OpenAiFlavor, script: Script, includeUsage: boolean): string[] {
  const { answer, meta } = script;
  const base = (choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    ...(meta.fingerprint ? { system_fingerprint: meta.fingerprint } : {}),
    choices,
    ...(flavor === 'azure' ? { usage: null } : {}),
    ...extra,
  });
  const choice = (delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
    index: 0,
    delta,
    ...(flavor === 'ollama' ? {} : { logprobs: null }),
    finish_reason: finish,
    ...(flavor === 'azure' ? { content_filter_results: delta.content ? FILTER_SAFE : {} } : {}),
  });
  const events: string[] = [];
  if (flavor === 'azure') {
    events.push(
      data({
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_SAFE }],
      }),
    );
  }
  const toolsOnly = answer.content === null && answer.toolCalls.length > 0;
  const role: Record<string, unknown> = { role: 'assistant', content: toolsOnly && flavor !== 'ollama' ? null : '' };
  if (flavor === 'openai' || flavor === 'azure') role.refusal = null;
  if (flavor === 'deepseek' && answer.reasoning !== null) Object.assign(role, { content: null, reasoning_content: '' });
  events.push(data(base([choice(role)])));
  for (const piece of pieces(answer.reasoning ?? '')) {
    if (flavor === 'ollama') events.push(data(base([choice({ role: 'assistant', content: '', reasoning: piece })])));
    else events.push(data(base([choice({ content: null, reasoning_content: piece })])));
  }
  for (const piece of pieces(answer.content ?? '')) events.push(data(base([choice({ content: piece })])));
  answer.toolCalls.forEach((call, index) => {
    if (flavor === 'ollama') {
      events.push(
        data(
          base([
            choice({
              role: 'assistant',
              content: '',
              tool_calls: [
                { id: call.id, index, type: 'function', function: { name: call.name, arguments: call.arguments } },
              ],
            }),
          ]),
        ),
      );
      return;
    }
    events.push(
      data(
        base([
          choice({
            tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
          }),
        ]),
      ),
    );
    for (const part of fragments(call.arguments, 4))
      events.push(data(base([choice({ tool_calls: [{ index, function: { arguments: part } }] })])));
  });
  const finishDelta = flavor === 'ollama' ? { role: 'assistant', content: '' } : {};
  if (flavor === 'deepseek') {
    events.push(
      data(
        base(
          [choice({ content: '', reasoning_content: null }, answer.finish)],
          includeUsage ? { usage: usageObject(flavor, answer.usage) } : {},
        ),
      ),
    );
  } else {
    events.push(data(base([choice(finishDelta, answer.finish)])));
    if (includeUsage) events.push(data(base([], { usage: usageObject(flavor, answer.usage) })));
  }
  events.push(DONE);
  return events;
}

/** Drop (or strip) the usage of replayed events when the client did not ask for it. */
export function withoutUsage(events: string[]): string[] {
  const out: string[] = [];
  for (const event of events) {
    const payload = eventData(event);
    if (!payload || !isRecord(payload.usage)) {
      out.push(event);
      continue;
    }
    if (!Array.isArray(payload.choices) || payload.choices.length === 0) continue;
    const { usage: _dropped, ...rest } = payload;
    out.push(data(rest));
  }
  return out;
}
