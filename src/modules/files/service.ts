import type { Readable } from 'node:stream';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { type BlobStore, BlobTooLarge } from '../../infra/blobs/index.js';
import type { FilesTable } from '../../infra/db/schema.js';
import { JsonlChecker, JsonlError } from './jsonl.js';
import type { FileOwner, FilesRepository } from './repository.js';

/** Purposes a client may upload (the Batch API's input); `batch_output` is what batches produce. */
export const UPLOAD_PURPOSES = ['batch'] as const;

/** OpenAI's file object. */
export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
}

export function toFileObject(row: FilesTable): FileObject {
  return {
    id: row.id,
    object: 'file',
    bytes: Number(row.bytes),
    created_at: Math.floor(Number(row.created_at) / 1000),
    expires_at: row.expires_at === null ? null : Math.floor(Number(row.expires_at) / 1000),
    filename: row.filename,
    purpose: row.purpose,
    status: 'processed',
    status_details: null,
  };
}

export const blobKeyOf = (fileId: string) => `files/${fileId}`;

export interface FilesServiceDeps {
  repo: FilesRepository;
  blobs: BlobStore;
  clock: Clock;
  newId: IdGenerator;
  limits: { fileMaxBytes: number; lineMaxBytes: number };
}

/**
 * The OpenAI Files API over the BlobStore: an upload is streamed to a blob (checked as JSONL on the way,
 * never held whole), its row written once the blob is complete. A file is its owner's (organization and
 * user): any other caller gets 404, as for an unknown id.
 */
export class FilesService {
  constructor(private readonly deps: FilesServiceDeps) {}

  newFileId(): string {
    return `file-${this.deps.newId('file').slice(5)}`;
  }

  /**
   * Store an uploaded batch input file. `content` is the upload's byte stream; `id` was made by `newFileId`.
   * Bad JSONL, a line or a file over its limit: 400 naming the line (nothing kept).
   */
  async storeUpload(id: string, filename: string, content: Readable): Promise<{ bytes: number; lines: number }> {
    const checker = new JsonlChecker(this.deps.limits.lineMaxBytes);
    async function* checked(): AsyncGenerator<Buffer> {
      for await (const chunk of content) {
        checker.push(chunk as Buffer);
        yield chunk as Buffer;
      }
      checker.end();
    }
    let bytes: number;
    try {
      bytes = await this.deps.blobs.write(blobKeyOf(id), checked(), { maxBytes: this.deps.limits.fileMaxBytes });
    } catch (error) {
      // The rest of the upload is not read: drain it so the request can end.
      content.resume();
      if (error instanceof JsonlError)
        throw new ApiError('validation_failed', `Invalid file '${filename}': ${error.message}`, { param: 'file' });
      if (error instanceof BlobTooLarge || (content as { truncated?: boolean }).truncated)
        throw new ApiError('payload_too_large', `The file is larger than ${this.deps.limits.fileMaxBytes} bytes`, {
          param: 'file',
        });
      throw error;
    }
    if ((content as { truncated?: boolean }).truncated) {
      await this.deps.blobs.delete(blobKeyOf(id));
      throw new ApiError('payload_too_large', `The file is larger than ${this.deps.limits.fileMaxBytes} bytes`, {
        param: 'file',
      });
    }
    return { bytes, lines: checker.lines };
  }

  /** Record a stored upload (after its purpose was read). */
  async recordUpload(
    owner: FileOwner & { keyId: string | null },
    file: { id: string; filename: string; purpose: string; bytes: number; lines: number },
  ): Promise<FileObject> {
    const row: FilesTable = {
      id: file.id,
      org_id: owner.orgId,
      key_id: owner.keyId,
      user_id: owner.userId,
      filename: file.filename,
      purpose: file.purpose,
      bytes: file.bytes,
      lines: file.lines,
      status: 'processed',
      created_at: this.deps.clock.now(),
      expires_at: null,
    };
    await this.deps.repo.insert(row);
    return toFileObject(row);
  }

  /** Forget a blob that never got its row (an upload refused after its bytes were stored). */
  discardUpload(id: string): Promise<void> {
    return this.deps.blobs.delete(blobKeyOf(id));
  }

  /** Store a file the hub produced (a batch's output or error file) from a stream of its text. */
  async createProduced(
    owner: FileOwner & { keyId: string | null },
    filename: string,
    purpose: string,
    content: AsyncIterable<string>,
  ): Promise<FileObject> {
    const id = this.newFileId();
    const bytes = await this.deps.blobs.write(blobKeyOf(id), content);
    return this.recordUpload(owner, { id, filename, purpose, bytes, lines: 0 });
  }

  async get(owner: FileOwner, id: string): Promise<FilesTable> {
    const row = await this.deps.repo.find(owner, id);
    if (!row) throw new ApiError('not_found', `No such File object: ${id}`, { param: 'id' });
    return row;
  }

  async list(
    owner: FileOwner,
    page: { purpose?: string | undefined; limit: number; after?: string | undefined; order: 'asc' | 'desc' },
  ): Promise<{
    object: 'list';
    data: FileObject[];
    has_more: boolean;
    first_id: string | null;
    last_id: string | null;
  }> {
    const rows = await this.deps.repo.list(owner, { ...page, limit: page.limit + 1 });
    const data = rows.slice(0, page.limit).map(toFileObject);
    return {
      object: 'list',
      data,
      has_more: rows.length > page.limit,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
    };
  }

  /** The file's bytes (404 for another owner's file or a missing blob). */
  async content(owner: FileOwner, id: string): Promise<{ row: FilesTable; stream: Readable }> {
    const row = await this.get(owner, id);
    const stream = await this.deps.blobs.read(blobKeyOf(id));
    if (!stream) throw new ApiError('not_found', `The content of file ${id} is gone`, { param: 'id' });
    return { row, stream };
  }

  async delete(owner: FileOwner, id: string): Promise<{ id: string; object: 'file'; deleted: true }> {
    await this.get(owner, id);
    await this.deps.repo.delete(owner, id);
    await this.deps.blobs.delete(blobKeyOf(id));
    return { id, object: 'file', deleted: true };
  }
}
