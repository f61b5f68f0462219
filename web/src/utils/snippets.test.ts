import { describe, expect, it } from 'vitest';
import { baseUrls, chatSnippet } from './snippets';

describe('API snippets', () => {
  it('gives the OpenAI base URL with /v1 and the Anthropic one without', () => {
    expect(baseUrls('https://hub.example.com/')).toEqual({
      openai: 'https://hub.example.com/v1',
      anthropic: 'https://hub.example.com',
    });
  });

  it('puts the real origin, key and model into each snippet', () => {
    for (const language of ['curl', 'python', 'javascript'] as const) {
      const text = chatSnippet(language, 'https://hub.example.com', 'sk-abc', 'gpt-x');
      expect(text).toContain('https://hub.example.com/v1');
      expect(text).toContain('sk-abc');
      expect(text).toContain('gpt-x');
    }
    expect(chatSnippet('curl', 'http://h', 'k', 'm')).toContain('http://h/v1/chat/completions');
  });
});
