/** Legacy completions ↔ canonical chat, without HTTP. */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../core/errors.js';
import type { ChatCompletion } from '../../providers/types.js';
import { type CompletionsBody, chatToCompletion, completionsSink, completionsToChat } from './completions-translate.js';

describe('completionsToChat', () => {
  it('one prompt becomes one user message; sampling fields carried; max_tokens defaults to 16', () => {
    const result = completionsToChat({ model: 'm', prompt: 'Once', temperature: 0.5, stop: ['\n'], user: 'u' });
    expect(result).not.toBeInstanceOf(ApiError);
    if (result instanceof ApiError) return;
    expect(result.chat).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'Once' }],
      temperature: 0.5,
      stop: ['\n'],
      user: 'u',
      max_tokens: 16,
    });
  });

  it('what chat cannot express is a refusal naming the field', () => {
    for (const [body, param] of [
      [{ model: 'm', prompt: ['a', 'b'] }, 'prompt'],
      [{ model: 'm', prompt: [1, 2, 3] }, 'prompt'],
      [{ model: 'm', prompt: 'a', suffix: 'z' }, 'suffix'],
      [{ model: 'm', prompt: 'a', logprobs: 2 }, 'logprobs'],
    ] as Array<[CompletionsBody, string]>) {
      const result = completionsToChat(body);
      expect(result).toBeInstanceOf(ApiError);
      expect((result as ApiError).param).toBe(param);
    }
  });
});

describe('chat answers as completions', () => {
  const completion: ChatCompletion = {
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 7,
    model: 'up',
    choices: [{ index: 0, message: { role: 'assistant', content: ' world' }, finish_reason: 'tool_calls' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };

  it('a text_completion under the requested model, echo before the text, chat-only finish reasons as stop', () => {
    expect(chatToCompletion(completion, 'asked', 'Hello')).toEqual({
      id: 'cmpl-abc',
      object: 'text_completion',
      created: 7,
      model: 'asked',
      choices: [{ text: 'Hello world', index: 0, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('stream chunks: text only, echo once, usage only when asked, [DONE] at the end', () => {
    const base = { id: 'chatcmpl-s', object: 'chat.completion.chunk' as const, created: 1, model: 'up' };
    const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    const sink = completionsSink('asked', false, 'P: ');
    const events = [
      sink.chunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
      sink.chunk({ ...base, choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] }),
      sink.chunk({ ...base, choices: [{ index: 0, delta: { reasoning_content: 'hmm' }, finish_reason: null }] }),
      sink.chunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'length' }] }),
      sink.chunk({ ...base, choices: [], usage }),
    ].filter((e) => e !== '');
    const payloads = events.map(
      (e) => JSON.parse(e.slice(6)) as { choices: Array<{ text: string; finish_reason: string | null }> },
    );
    expect(payloads.map((p) => p.choices[0]?.text)).toEqual(['P: ', 'a', '']);
    expect(payloads.at(-1)?.choices[0]?.finish_reason).toBe('length');
    expect(sink.end(null)).toBe('data: [DONE]\n\n');
    const withUsage = completionsSink('asked', true, null).chunk({ ...base, choices: [], usage });
    expect(JSON.parse(withUsage.slice(6))).toMatchObject({ choices: [], usage });
  });
});
