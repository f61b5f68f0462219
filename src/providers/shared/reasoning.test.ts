import { describe, expect, it } from 'vitest';
import { normaliseReasoning, readReasoningText, reasoningDetailsText } from './reasoning.js';

describe('reasoning normalisation', () => {
  it('keeps DeepSeek reasoning_content as is', () => {
    const delta = { content: null, reasoning_content: 'step 1' };
    expect(normaliseReasoning(delta)).toEqual(delta);
  });

  it('moves `reasoning` (OpenRouter, Ollama, vLLM) to reasoning_content', () => {
    expect(normaliseReasoning({ content: '', reasoning: 'think' })).toEqual({
      content: '',
      reasoning_content: 'think',
    });
  });

  it('reads OpenRouter reasoning_details text and summaries, skipping encrypted entries, and keeps the details', () => {
    const details = [
      { type: 'reasoning.text', text: 'a', signature: null },
      { type: 'reasoning.encrypted', data: 'xxx' },
      { type: 'reasoning.summary', summary: 'b' },
    ];
    expect(reasoningDetailsText(details)).toBe('ab');
    expect(normaliseReasoning({ reasoning_details: details })).toEqual({
      reasoning_details: details,
      reasoning_content: 'ab',
    });
  });

  it('uses one source when a server sends the same text under two keys', () => {
    const delta = {
      reasoning: 'same',
      reasoning_content: 'same',
      reasoning_details: [{ type: 'reasoning.text', text: 'same' }],
    };
    expect(readReasoningText(delta)).toBe('same');
    expect(normaliseReasoning(delta).reasoning_content).toBe('same');
  });

  it('drops a null `reasoning` and leaves records without reasoning untouched', () => {
    expect(normaliseReasoning({ content: 'x', reasoning: null })).toEqual({ content: 'x' });
    const plain = { content: 'x' };
    expect(normaliseReasoning(plain)).toBe(plain);
  });
});
