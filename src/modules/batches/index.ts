/** The OpenAI Files and Batch APIs: files in the BlobStore, batches run as jobs through the whole pipeline. */

import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import { DetachedRunner, type Gateway, type ResponseStore } from '../../gateway/index.js';
import type { BlobStore } from '../../infra/blobs/index.js';
import type { Database } from '../../infra/db/schema.js';
import type { JobQueue } from '../../jobs/types.js';
import { FilesRepository } from '../files/repository.js';
import { FilesService } from '../files/service.js';
import { Pacer } from './pacer.js';
import { BatchesRepository } from './repository.js';
import { registerBatchJobs } from './runner.js';
import { BatchesService } from './service.js';

export interface BatchApi {
  files: FilesService;
  batches: BatchesService;
}

export interface BatchApiDeps {
  db: Kysely<Database>;
  blobs: BlobStore;
  gateway: Gateway;
  responses: ResponseStore;
  jobs: JobQueue;
  clock: Clock;
  newId: IdGenerator;
  limits: { fileMaxBytes: number; lineMaxBytes: number; requestsPerSecond: number; concurrency: number };
}

/** Build the files and batches services and register the batch job. */
export function createBatchApi(deps: BatchApiDeps): BatchApi {
  const files = new FilesService({
    repo: new FilesRepository(deps.db),
    blobs: deps.blobs,
    clock: deps.clock,
    newId: deps.newId,
    limits: deps.limits,
  });
  const repo = new BatchesRepository(deps.db);
  const batches = new BatchesService({
    repo,
    files,
    blobs: deps.blobs,
    gateway: deps.gateway,
    jobs: deps.jobs,
    clock: deps.clock,
    newId: deps.newId,
  });
  registerBatchJobs(deps.jobs, {
    repo,
    files,
    blobs: deps.blobs,
    runner: new DetachedRunner(deps.gateway, { store: deps.responses, clock: deps.clock }),
    pacer: new Pacer(() => deps.limits.requestsPerSecond, deps.clock),
    clock: deps.clock,
    newId: deps.newId,
    concurrency: () => deps.limits.concurrency,
  });
  return { files, batches };
}
