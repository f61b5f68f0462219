/**
 * Large payloads (batch input and output files, exports) live behind `BlobStore`, never in database rows
 * (DESIGN.md §7b). The store streams both ways: a blob is never held in memory whole. Today one
 * implementation: files under a directory (`AIHUB_DATA_DIR/blobs` by default); an S3-compatible store is
 * not implemented yet.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface BlobWriteOptions {
  /** Refuse (and delete what was written) a source larger than this many bytes. */
  maxBytes?: number;
}

/** Thrown when a source is larger than `maxBytes`: nothing is kept. */
export class BlobTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`larger than ${maxBytes} bytes`);
    this.name = 'BlobTooLarge';
  }
}

export interface BlobStore {
  /**
   * Store `source` under `key` (replacing a blob of that key once the whole source was written: a reader
   * never sees a part). Returns its size in bytes.
   */
  write(
    key: string,
    source: Readable | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
    options?: BlobWriteOptions,
  ): Promise<number>;
  /** The blob's bytes as a stream (undefined when there is no such blob). */
  read(key: string): Promise<Readable | undefined>;
  /** Size in bytes, or undefined when there is no such blob. */
  size(key: string): Promise<number | undefined>;
  /** Delete the blob (no error when there is none). */
  delete(key: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/;

/** Blobs as files under one directory: `<root>/<key>`, written to a temporary file and renamed into place. */
export class FileBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    if (!KEY.test(key) || key.includes('..')) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    const path = join(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return path;
  }

  async write(
    key: string,
    source: Readable | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
    options: BlobWriteOptions = {},
  ): Promise<number> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.${Date.now()}.part`;
    const max = options.maxBytes ?? Number.POSITIVE_INFINITY;
    let bytes = 0;
    async function* counted(
      input: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
    ): AsyncGenerator<Uint8Array> {
      for await (const chunk of input) {
        const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += data.byteLength;
        if (bytes > max) throw new BlobTooLarge(max);
        yield data;
      }
    }
    try {
      await pipeline(counted(source), createWriteStream(temporary, { mode: 0o600 }));
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return bytes;
  }

  async read(key: string): Promise<Readable | undefined> {
    const path = this.path(key);
    if ((await this.size(key)) === undefined) return undefined;
    return createReadStream(path);
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const info = await stat(this.path(key));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
