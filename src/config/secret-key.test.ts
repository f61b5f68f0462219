import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSecretKey } from './secret-key.js';

describe('loadOrCreateSecretKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aihub-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses AIHUB_SECRET_KEY when configured and writes no file', () => {
    const configured = Buffer.alloc(32, 5);
    const { key, source } = loadOrCreateSecretKey(configured, dir);
    expect(key.equals(configured)).toBe(true);
    expect(source).toBe('AIHUB_SECRET_KEY');
    expect(() => statSync(join(dir, 'secret.key'))).toThrow();
  });

  it('creates <dataDir>/secret.key with mode 0600 on first start (and the data dir if needed)', () => {
    const dataDir = join(dir, 'nested', 'data');
    const { key, source } = loadOrCreateSecretKey(undefined, dataDir);
    const file = join(dataDir, 'secret.key');
    expect(key).toHaveLength(32);
    expect(source).toContain('created');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(key.toString('hex'));
  });

  it('reuses the same key on later starts', () => {
    const first = loadOrCreateSecretKey(undefined, dir);
    const second = loadOrCreateSecretKey(undefined, dir);
    expect(second.key.equals(first.key)).toBe(true);
    expect(second.source).toBe(join(dir, 'secret.key'));
  });

  it('refuses a corrupt key file rather than replacing it', () => {
    const file = join(dir, 'secret.key');
    writeFileSync(file, 'not a key\n');
    expect(() => loadOrCreateSecretKey(undefined, dir)).toThrow(/secret\.key/);
    expect(readFileSync(file, 'utf8')).toBe('not a key\n');
    writeFileSync(file, `${'ab'.repeat(31)}\n`);
    expect(() => loadOrCreateSecretKey(undefined, dir)).toThrow(/32-byte/);
  });
});
