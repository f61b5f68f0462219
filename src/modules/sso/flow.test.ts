import { describe, expect, it } from 'vitest';
import { safeReturnTo } from './flow.js';

describe('where a sign-in may land', () => {
  it('keeps console paths with their query', () => {
    expect(safeReturnTo('/keys?x=1#top')).toBe('/keys?x=1#top');
    expect(safeReturnTo('/')).toBe('/');
  });

  it('sends everything else to /: other hosts, the API, odd characters, nothing', () => {
    for (const bad of [
      'https://evil.test/',
      '//evil.test/x',
      '/\\evil.test',
      '/api/me',
      'keys',
      '/a\nb',
      '',
      null,
      undefined,
    ])
      expect(safeReturnTo(bad), String(bad)).toBe('/');
  });
});
