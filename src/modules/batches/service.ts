import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { DETACHED_ENDPOINTS, type Gateway } from '../../gateway/index.js';
import type { BlobStore } from '../../infra/blobs/index.js';
import type { JobQueue } from '../../jobs/types.js';
import { JsonlError, jsonlLines, parseLineObject } from '../files/jsonl.js';
import type { FileOwner } from '../files/repository.js';
import { blobKeyOf, type FilesService } from '../files/service.js';
import { COMPLETION_WINDOWS, FINISHED, modelOfLine, toBatchObject } from './format.js';
import type { BatchesRepository } from './repository.js';

export const BATCH_JOB = 'batch.run';

export interface BatchOwner extends FileOwner {
  keyId: string;
  caller: Parameters<Gateway['visibleModels']>[0];
}

export interface CreateBatchInput {
  input_file_id?: unknown;
  endpoint?: unknown;
  completion_window?: unknown;
  metadata?: unknown;
}

export interface BatchesServiceDeps {
  repo: BatchesRepository;
  files: FilesService;
  blobs: BlobStore;
  gateway: Gateway;
  jobs: JobQueue;
  clock: Clock;
  newId: IdGenerator;
}

/**
 * The Batch API's rules: a batch is created from one of the caller's batch files after checking it (the
 * endpoint, unique custom_ids, every model allowed to the key: a 4xx naming the line otherwise), and run by
 * a job (runner.ts). A batch is its owner's (organization and user): any other caller gets 404.
 */
export class BatchesService {
  constructor(private readonly deps: BatchesServiceDeps) {}

  async create(owner: BatchOwner, input: CreateBatchInput, clientIp: string) {
    const { endpoint, completion_window: window, input_file_id: fileId, metadata } = input;
    if (typeof fileId !== 'string' || fileId === '')
      throw new ApiError('validation_failed', "Missing required parameter: 'input_file_id'", {
        param: 'input_file_id',
      });
    if (typeof endpoint !== 'string' || !(DETACHED_ENDPOINTS as readonly string[]).includes(endpoint))
      throw new ApiError(
        'validation_failed',
        `Invalid 'endpoint' ${JSON.stringify(endpoint)}: expected one of ${DETACHED_ENDPOINTS.join(', ')}`,
        { param: 'endpoint' },
      );
    if (typeof window !== 'string' || COMPLETION_WINDOWS[window] === undefined)
      throw new ApiError(
        'validation_failed',
        `Invalid 'completion_window' ${JSON.stringify(window)}: expected ${Object.keys(COMPLETION_WINDOWS).join(', ')}`,
        { param: 'completion_window' },
      );
    checkMetadata(metadata);
    const file = await this.deps.files.get(owner, fileId).catch(() => {
      throw new ApiError('not_found', `No such File object: ${fileId}`, { param: 'input_file_id' });
    });
    if (file.purpose !== 'batch')
      throw new ApiError('validation_failed', `File ${fileId} has purpose '${file.purpose}', not 'batch'`, {
        param: 'input_file_id',
      });
    const total = await this.checkFile(owner, fileId, endpoint);
    const now = this.deps.clock.now();
    const id = this.deps.newId('batch');
    await this.deps.repo.insert({
      id,
      org_id: owner.orgId,
      key_id: owner.keyId,
      user_id: owner.userId,
      job_id: null,
      endpoint,
      input_file_id: fileId,
      output_file_id: null,
      error_file_id: null,
      completion_window: window,
      status: 'validating',
      total,
      completed: 0,
      failed: 0,
      metadata: metadata === undefined || metadata === null ? null : JSON.stringify(metadata),
      errors: null,
      client_ip: clientIp,
      created_at: now,
      in_progress_at: null,
      expires_at: now + (COMPLETION_WINDOWS[window] as number),
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
    });
    const job = await this.deps.jobs.enqueue(
      BATCH_JOB,
      { batchId: id },
      { orgId: owner.orgId, userId: owner.userId, uniqueKey: `batch:${id}` },
    );
    await this.deps.repo.update(id, { job_id: job.id });
    return toBatchObject({ ...(await this.getRow(owner, id)) });
  }

  /**
   * Read the input file once (streamed): lines that cannot be parsed were refused at upload; here every
   * custom_id must be unique and every named model available to the key. Returns the number of lines.
   */
  private async checkFile(owner: BatchOwner, fileId: string, endpoint: string): Promise<number> {
    const stream = await this.deps.blobs.read(blobKeyOf(fileId));
    if (!stream) throw new ApiError('not_found', `The content of file ${fileId} is gone`, { param: 'input_file_id' });
    const visible = new Set(this.deps.gateway.visibleModels(owner.caller).map((m) => m.name));
    const seen = new Set<string>();
    let total = 0;
    try {
      for await (const { line, text } of jsonlLines(stream)) {
        const value = parseLineObject(text, line);
        total++;
        const customId = value.custom_id;
        if (typeof customId === 'string') {
          if (seen.has(customId))
            throw new JsonlError(line, `custom_id '${customId}' is used by an earlier line; each must be unique`);
          seen.add(customId);
        }
        const model = modelOfLine(value);
        if (model !== undefined && value.url === endpoint && !visible.has(model))
          throw new JsonlError(line, `the model '${model}' does not exist or this API key may not use it`);
      }
    } catch (error) {
      if (error instanceof JsonlError)
        throw new ApiError('validation_failed', `Invalid input file ${fileId}: ${error.message}`, {
          param: 'input_file_id',
        });
      throw error;
    }
    if (total === 0)
      throw new ApiError('validation_failed', `Input file ${fileId} has no lines`, { param: 'input_file_id' });
    return total;
  }

  private async getRow(owner: FileOwner, id: string) {
    const row = await this.deps.repo.find(owner, id);
    if (!row) throw new ApiError('not_found', `No batch found with id '${id}'.`, { param: 'batch_id' });
    return row;
  }

  async get(owner: FileOwner, id: string) {
    return toBatchObject(await this.getRow(owner, id));
  }

  async list(owner: FileOwner, page: { limit: number; after?: string | undefined }) {
    const rows = await this.deps.repo.list(owner, { ...page, limit: page.limit + 1 });
    const data = rows.slice(0, page.limit).map(toBatchObject);
    return {
      object: 'list' as const,
      data,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
      has_more: rows.length > page.limit,
    };
  }

  /** Cancel: `cancelling` at once; the job stops after the lines in flight and ends the batch `cancelled`. */
  async cancel(owner: FileOwner, id: string) {
    const row = await this.getRow(owner, id);
    if (FINISHED.includes(row.status))
      throw new ApiError('conflict', `Cannot cancel a batch with status '${row.status}'.`, { param: 'batch_id' });
    if (row.status !== 'cancelling')
      await this.deps.repo.transition(id, ['validating', 'in_progress', 'finalizing'], {
        status: 'cancelling',
        cancelling_at: this.deps.clock.now(),
      });
    return this.get(owner, id);
  }
}

function checkMetadata(metadata: unknown): void {
  if (metadata === undefined || metadata === null) return;
  const bad = (message: string) => new ApiError('validation_failed', message, { param: 'metadata' });
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw bad("'metadata' must be an object");
  const entries = Object.entries(metadata);
  if (entries.length > 16) throw bad("'metadata' may hold at most 16 pairs");
  for (const [key, value] of entries) {
    if (key.length > 64) throw bad(`metadata key '${key.slice(0, 20)}…' is longer than 64 characters`);
    if (typeof value !== 'string' || value.length > 512)
      throw bad(`metadata '${key}' must be a string of at most 512 characters`);
  }
}
