import { describe, expect, it } from 'vitest';
import { deriveKey, randomSecret, SecretBox, safeEqual, sha256Hex } from './secrets.js';

const master = Buffer.alloc(32, 1);

describe('SecretBox', () => {
  const box = new SecretBox(deriveKey(master, 'secrets-at-rest'));

  it('decrypts what it encrypted, including unicode and the empty string', () => {
    for (const plain of ['sk-upstream-provider-key', '', 'ключ 🔑 鍵', 'x'.repeat(10_000)]) {
      expect(box.decrypt(box.encrypt(plain))).toBe(plain);
    }
  });

  it('writes a versioned ciphertext that never contains the plain text and differs each time', () => {
    const a = box.encrypt('sk-same-secret');
    const b = box.encrypt('sk-same-secret');
    expect(a).toMatch(/^v1:[A-Za-z0-9+/]+=*$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-same-secret');
    expect(Buffer.from(a.slice(3), 'base64').toString('utf8')).not.toContain('sk-same-secret');
  });

  it('refuses a tampered ciphertext', () => {
    const sealed = box.encrypt('sk-upstream-provider-key');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    for (const index of [0, 12, 28, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[index] = (bad[index] as number) ^ 1;
      expect(() => box.decrypt(`v1:${bad.toString('base64')}`), `byte ${index}`).toThrow();
    }
    expect(() => box.decrypt(`v1:${raw.subarray(0, raw.length - 1).toString('base64')}`)).toThrow();
  });

  it('refuses to decrypt with another key', () => {
    const sealed = box.encrypt('sk-upstream-provider-key');
    expect(() => new SecretBox(deriveKey(Buffer.alloc(32, 2), 'secrets-at-rest')).decrypt(sealed)).toThrow();
    expect(() => new SecretBox(deriveKey(master, 'jwt')).decrypt(sealed)).toThrow();
  });

  it('rejects an unknown format and a key that is not 32 bytes', () => {
    expect(() => box.decrypt('v2:AAAA')).toThrow(/format/);
    expect(() => box.decrypt('plain text')).toThrow(/format/);
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(/32-byte/);
  });
});

describe('deriveKey', () => {
  it('derives a stable 32-byte key per master and purpose', () => {
    const jwt = deriveKey(master, 'jwt');
    expect(jwt).toHaveLength(32);
    expect(deriveKey(master, 'jwt').equals(jwt)).toBe(true);
    expect(deriveKey(master, 'secrets-at-rest').equals(jwt)).toBe(false);
    expect(deriveKey(Buffer.alloc(32, 2), 'jwt').equals(jwt)).toBe(false);
    expect(jwt.equals(master)).toBe(false);
  });
});

describe('helpers', () => {
  it('hashes with SHA-256 in hex', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('compares strings exactly, including different lengths', () => {
    expect(safeEqual('master-key-value', 'master-key-value')).toBe(true);
    expect(safeEqual('master-key-value', 'master-key-valuE')).toBe(false);
    expect(safeEqual('master-key-value', 'master-key-valu')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });

  it('makes URL-safe random secrets of the requested size', () => {
    const secret = randomSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(randomSecret(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomSecret()).not.toBe(secret);
  });
});
