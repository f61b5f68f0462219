import { describe, expect, it } from 'vitest';
import { bearerToken } from './bearer.js';

describe('bearerToken', () => {
  it('reads the token whatever the scheme case, trimming spaces and tabs', () => {
    expect(bearerToken('Bearer sk-abc')).toBe('sk-abc');
    expect(bearerToken('bearer  sk-abc ')).toBe('sk-abc');
    expect(bearerToken('BEARER\tsk-abc')).toBe('sk-abc');
  });

  it('finds no token in other schemes, a bare scheme or an empty header', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer    ')).toBeUndefined();
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken('Bearersk-abc')).toBeUndefined();
  });
});
