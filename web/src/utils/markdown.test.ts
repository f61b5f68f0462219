import { describe, expect, it } from 'vitest';
import { renderMarkdown, stableCut } from './markdown';

describe('renderMarkdown', () => {
  it('shows raw HTML as text and never makes javascript: links', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)> [click](javascript:alert(1)) <script>x</script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).not.toMatch(/href="javascript:/i);
    expect(html).toContain('&lt;img');
  });

  it('opens links in a new tab without an opener, and highlights code', () => {
    const html = renderMarkdown('See https://example.com\n\n```js\nconst x = 1;\n```\n');
    expect(html).toMatch(/<a href="https:\/\/example.com"[^>]*target="_blank"[^>]*rel="noopener noreferrer"/);
    expect(html).toContain('hljs');
  });
});

describe('stableCut', () => {
  it('cuts only after finished blocks, never inside a code fence', () => {
    const text = 'First paragraph.\n\n```\ncode\n\nmore code\n```\n\nSecond paragraph.\n\nThird, still stre';
    // The line being written cannot start a block yet, so the cut is before the last finished paragraph.
    expect(text.slice(stableCut(text))).toBe('Second paragraph.\n\nThird, still stre');
    // Inside an open fence, nothing after the fence start is stable.
    const open = 'Intro.\n\n```\ncode\n\nmore';
    expect(open.slice(stableCut(open))).toBe('```\ncode\n\nmore');
  });

  it('renders the same in two parts as in one', () => {
    const text = '# Title\n\nSome *text*.\n\n- a\n- b\n\n```ts\nlet y = 2;\n```\n\nTail';
    const cut = stableCut(text);
    expect(renderMarkdown(text.slice(0, cut)) + renderMarkdown(text.slice(cut))).toBe(renderMarkdown(text));
  });
});
