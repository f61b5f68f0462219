import { encode } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../providers/types.js';
import { OutputAccumulator, withReported } from './accounting.js';

const estimate = { prompt: 5, completion: 12, cached: 0, reasoning: 4, estimated: true };

describe('withReported', () => {
  it('keeps the reported input and cache counts and estimates only the output', () => {
    expect(withReported(estimate, { prompt: 28, cached: 8 })).toEqual({
      prompt: 28,
      completion: 12,
      cached: 8,
      reasoning: 4,
      estimated: true,
    });
  });

  it('is not an estimate when prompt and completion were both reported', () => {
    expect(withReported(estimate, { prompt: 28, cached: 8, completion: 96, reasoning: 30 })).toEqual({
      prompt: 28,
      completion: 96,
      cached: 8,
      reasoning: 30,
      estimated: false,
    });
  });

  it('is the estimate when nothing was reported', () => {
    expect(withReported(estimate, {})).toEqual(estimate);
  });
});

describe('OutputAccumulator.estimate with reported figures', () => {
  const request: ChatRequest = {
    model: 'm',
    messages: [{ role: 'user', content: 'Tell me a long story about the sea.' }],
  };

  it('counts the streamed text and takes the reported prompt instead of counting it', async () => {
    const output = new OutputAccumulator();
    output.addText('Once upon a time');
    output.addReasoning('Let me think.');
    const counted = await output.estimate(request, { prompt: 20 + 8, cached: 8 });
    const reasoning = encode('Let me think.').length;
    expect(counted).toEqual({
      prompt: 28,
      cached: 8,
      completion: encode('Once upon a time').length + reasoning,
      reasoning,
      estimated: true,
    });
    const unreported = await output.estimate(request);
    expect(unreported.prompt).toBe(encode('Tell me a long story about the sea.').length + 4);
    expect(unreported.cached).toBe(0);
  });
});
