import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { BlobTooLarge, FileBlobStore } from './index.js';

const store = () => new FileBlobStore(mkdtempSync(join(tmpdir(), 'aihub-blobs-')));

async function* chunks(count: number, size: number): AsyncGenerator<string> {
  for (let i = 0; i < count; i++) yield 'x'.repeat(size);
}

describe('FileBlobStore', () => {
  it('writes a stream, reads it back, reports its size, deletes it', async () => {
    const blobs = store();
    expect(await blobs.write('files/a', Readable.from(['hello ', 'world']))).toBe(11);
    expect(await blobs.size('files/a')).toBe(11);
    const stream = await blobs.read('files/a');
    expect(stream && (await text(stream))).toBe('hello world');
    await blobs.delete('files/a');
    expect(await blobs.size('files/a')).toBeUndefined();
    expect(await blobs.read('files/a')).toBeUndefined();
    await blobs.delete('files/a');
  });

  it('refuses a source over maxBytes and keeps nothing of it', async () => {
    const blobs = store();
    await expect(blobs.write('files/big', chunks(10, 1000), { maxBytes: 5000 })).rejects.toBeInstanceOf(BlobTooLarge);
    expect(await blobs.size('files/big')).toBeUndefined();
    expect(readdirSync(join(blobs.root, 'files'))).toEqual([]);
  });

  it('a failed rewrite leaves the old blob whole', async () => {
    const blobs = store();
    await blobs.write('k', ['old']);
    await expect(blobs.write('k', chunks(5, 10), { maxBytes: 20 })).rejects.toThrow(BlobTooLarge);
    const stream = await blobs.read('k');
    expect(stream && (await text(stream))).toBe('old');
  });

  it('refuses keys that would leave its directory', async () => {
    const blobs = store();
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', ''])
      await expect(blobs.write(key, ['x'])).rejects.toThrow(/invalid blob key/);
  });
});
