import { describe, expect, it } from 'vitest';
import { newId } from './ids.js';

const CROCKFORD = /^[0-9abcdefghjkmnpqrstvwxyz]+$/;

describe('newId', () => {
  it('is the prefix, an underscore and 26 lower-case Crockford base32 characters', () => {
    const id = newId('usr');
    expect(id).toMatch(/^usr_[0-9a-z]{26}$/);
    expect(id.slice(4)).toMatch(CROCKFORD);
    expect(newId('req', 0).startsWith('req_0000000000')).toBe(true);
  });

  it('encodes the time in its first 10 characters', () => {
    const t = Date.UTC(2026, 0, 15, 12, 0, 0);
    const a = newId('key', t);
    const b = newId('key', t);
    expect(a.slice(0, 14)).toBe(b.slice(0, 14));
    expect(a.slice(14)).not.toBe(b.slice(14));
    // 32^10 covers epoch milliseconds far beyond this century.
    expect(newId('x', 2 ** 40).slice(2, 12)).not.toBe(newId('x', 2 ** 40 + 1).slice(2, 12));
  });

  it('sorts by creation time as plain strings', () => {
    const start = Date.UTC(2025, 5, 1);
    const steps = [0, 1, 2, 31, 32, 33, 1023, 1024, 86_400_000, 10 ** 11];
    const ids = steps.map((ms) => newId('aud', start + ms));
    expect([...ids].sort()).toEqual(ids);
    expect(newId('aud', Date.UTC(2030, 0, 1)) > newId('aud', Date.UTC(2029, 11, 31, 23, 59, 59, 999))).toBe(true);
  });

  it('does not repeat over 10,000 ids made in the same millisecond', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('key', now)));
    expect(ids.size).toBe(10_000);
  });
});
