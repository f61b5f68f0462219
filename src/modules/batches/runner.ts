/**
 * The `batch.run` job: runs a batch's lines in order through the whole /v1 pipeline as the batch's key
 * (limits, budgets and balance, routing and failover, usage rows tagged with the batch id), paced per
 * instance, a few in flight. Each finished line is recorded (batch_results) before it counts: the record is
 * the checkpoint, so a batch resumed after a restart skips every finished line and sends none twice.
 * Cancel (`cancelling`) and the completion window are checked between lines; lines in flight finish.
 * On a graceful shutdown (the worker's `stopping`) no new line starts, the lines in flight finish and are
 * recorded, and the job goes back to the queue (`JobInterrupted`); the next run resumes after the records.
 * Only a process killed outright (kill -9, power loss) between a line's upstream answer and its record leaves
 * a line sent but unrecorded: that line is sent again on resume (at most `concurrency` lines).
 * At the end the output and error files are written from the records, in line order.
 */
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { Caller, DetachedEndpoint, DetachedRunner } from '../../gateway/index.js';
import type { BlobStore } from '../../infra/blobs/index.js';
import type { BatchesTable } from '../../infra/db/schema.js';
import { type JobContext, JobInterrupted, type JobQueue, type JobRecord } from '../../jobs/types.js';
import { jsonlLines, parseLineObject } from '../files/jsonl.js';
import { blobKeyOf, type FilesService } from '../files/service.js';
import { checkLine, errorLine, FINISHED, responseLine } from './format.js';
import type { Pacer } from './pacer.js';
import type { BatchesRepository } from './repository.js';
import { BATCH_JOB } from './service.js';

export interface BatchRunnerDeps {
  repo: BatchesRepository;
  files: FilesService;
  blobs: BlobStore;
  runner: DetachedRunner;
  pacer: Pacer;
  clock: Clock;
  newId: IdGenerator;
  /** Lines of one batch in flight at once. */
  concurrency: () => number;
}

/** How often the batch's status is re-read for a cancel (ms). */
const CANCEL_POLL_MS = 250;
/** How often the counts are written to the batch row while it runs (ms). */
const PROGRESS_MS = 500;

type Ending = 'completed' | 'cancelled' | 'expired';

/** Register the batch job type on the queue. */
export function registerBatchJobs(jobs: JobQueue, deps: BatchRunnerDeps): void {
  jobs.define<{ batchId: string }, { status: string }>({
    type: BATCH_JOB,
    concurrency: 2,
    attempts: 5,
    backoff: { baseMs: 5_000, maxMs: 300_000 },
    handler: (context) => runBatch(deps, context),
    onCancel: ({ job, wasRunning }) => cancelBatchOfJob(deps, job, wasRunning),
  });
}

/**
 * The batch job was cancelled through the jobs API (an admin's console): the batch is cancelled too, as by
 * `POST /v1/batches/{id}/cancel`. A running job ends it itself (its signal aborts with `cancelled`: the lines in
 * flight are recorded, the rest go to the error file); a job that was not running has no runner left to do it.
 */
async function cancelBatchOfJob(deps: BatchRunnerDeps, job: JobRecord, wasRunning: boolean): Promise<void> {
  const batchId = (job.payload as { batchId?: unknown } | null)?.batchId;
  if (typeof batchId !== 'string') return;
  const batch = await deps.repo.findForJob(batchId);
  if (!batch || FINISHED.includes(batch.status)) return;
  // Every line was already run: the files are being written, so it ends completed.
  if (batch.status === 'finalizing') {
    if (!wasRunning) await finish(deps, batch, 'completed');
    return;
  }
  await deps.repo.transition(batch.id, ['validating', 'in_progress'], {
    status: 'cancelling',
    cancelling_at: deps.clock.now(),
  });
  if (!wasRunning) await finish(deps, batch, 'cancelled');
}

async function runBatch(deps: BatchRunnerDeps, context: JobContext<{ batchId: string }>): Promise<{ status: string }> {
  const { repo, clock } = deps;
  const batch = await repo.findForJob(context.payload.batchId);
  if (!batch) return { status: 'missing' };
  if (FINISHED.includes(batch.status)) return { status: batch.status };
  if (batch.status === 'finalizing') return { status: await finish(deps, batch, 'completed') };
  let caller: Caller;
  try {
    caller = await deps.runner.callerForKey(batch.key_id);
  } catch (error) {
    const message = error instanceof ApiError ? error.message : 'The API key of this batch cannot be used';
    await repo.update(batch.id, {
      status: 'failed',
      failed_at: clock.now(),
      errors: JSON.stringify({
        object: 'list',
        data: [{ code: 'invalid_api_key', message, param: null, line: null }],
      }),
    });
    return { status: 'failed' };
  }
  if (batch.status === 'validating')
    await repo.transition(batch.id, ['validating'], { status: 'in_progress', in_progress_at: clock.now() });

  const done = await repo.finishedLines(batch.id);
  const counts = { completed: done.completed, failed: done.failed };
  let status = (await repo.statusOf(batch.id)) ?? batch.status;
  let checkedAt = clock.now();
  let savedAt = clock.now();
  const inFlight = new Set<Promise<void>>();
  let ending: Ending = 'completed';
  const saveProgress = async () => {
    savedAt = clock.now();
    await repo.update(batch.id, { completed: counts.completed, failed: counts.failed });
    const finished = counts.completed + counts.failed;
    await context.progress(Math.floor((finished * 100) / Math.max(1, batch.total)), `${finished}/${batch.total} lines`);
  };

  const stream = await deps.blobs.read(blobKeyOf(batch.input_file_id));
  if (!stream) throw new Error(`the input file ${batch.input_file_id} of batch ${batch.id} is gone`);
  const interrupted = () => context.signal.aborted || context.stopping.aborted;
  // The job itself was cancelled (the jobs API): the batch ends cancelled, not re-queued.
  const jobCancelled = () =>
    context.signal.aborted && (context.signal.reason as Error | undefined)?.message === 'cancelled';
  let failure: unknown;
  for await (const { line, text } of jsonlLines(stream)) {
    if (done.lines.has(line)) continue;
    if (interrupted() || failure !== undefined) break;
    if (clock.now() - checkedAt >= CANCEL_POLL_MS) {
      checkedAt = clock.now();
      status = (await repo.statusOf(batch.id)) ?? status;
    }
    if (status === 'cancelling') {
      ending = 'cancelled';
      break;
    }
    if (clock.now() >= Number(batch.expires_at)) {
      ending = 'expired';
      break;
    }
    while (inFlight.size >= Math.max(1, deps.concurrency())) await Promise.race(inFlight);
    await deps.pacer.take();
    // A shutdown may have begun while this line waited for room or for the pacer: it is not sent.
    if (interrupted() || failure !== undefined) break;
    const task = runLine(deps, batch, caller, line, text).then(async ({ ok, body }) => {
      await repo.recordLine(batch.id, line, ok, body);
      done.lines.add(line);
      if (ok) counts.completed++;
      else counts.failed++;
    });
    // A line that throws (the database went away, say) stops the batch once the others in flight settle.
    const tracked: Promise<void> = task
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (clock.now() - savedAt >= PROGRESS_MS) await saveProgress();
  }
  // Every line sent is recorded before the job lets go, whatever stopped the loop.
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  await saveProgress();
  if (jobCancelled()) return { status: await finish(deps, batch, 'cancelled') };
  // Shut down (or timed out) mid-batch: back to the queue; the next run resumes after the recorded lines.
  if (interrupted()) throw new JobInterrupted('the batch was interrupted; it resumes from its checkpoint');
  if (ending === 'completed' && (await repo.statusOf(batch.id)) === 'cancelling') ending = 'cancelled';
  return { status: await finish(deps, batch, ending) };
}

/** One line through the pipeline: its output line (ok) or error line. */
async function runLine(
  deps: BatchRunnerDeps,
  batch: BatchesTable,
  caller: Caller,
  line: number,
  text: string,
): Promise<{ ok: boolean; body: string }> {
  const id = `batch_req_${deps.newId('x').slice(2)}`;
  let value: Record<string, unknown>;
  try {
    value = parseLineObject(text, line);
  } catch (error) {
    return { ok: false, body: errorLine(id, null, 'invalid_json', (error as Error).message) };
  }
  const check = checkLine(value, batch.endpoint);
  if (!check.ok)
    return { ok: false, body: errorLine(id, check.customId, check.code, `line ${line}: ${check.message}`) };
  const requestId = deps.newId('req');
  const answer = await deps.runner.run(batch.endpoint as DetachedEndpoint, caller, {
    requestId,
    body: check.body,
    clientIp: batch.client_ip ?? '127.0.0.1',
    batchId: batch.id,
  });
  const ok = answer.status < 400;
  return { ok, body: responseLine(id, check.customId, answer.status, requestId, answer.body) };
}

/**
 * Write the output and error files (an expired or cancelled batch's unsent lines go to the error file) and
 * end the batch. Returns its final status.
 */
async function finish(deps: BatchRunnerDeps, batch: BatchesTable, ending: Ending): Promise<string> {
  const { repo, clock } = deps;
  await repo.update(batch.id, {
    finalizing_at: clock.now(),
    ...(ending === 'completed' ? { status: 'finalizing' } : {}),
  });
  const owner = { orgId: batch.org_id, userId: batch.user_id, keyId: batch.key_id };
  const finished = await repo.finishedLines(batch.id);
  let output: string | null = null;
  if (finished.completed > 0)
    output = (
      await deps.files.createProduced(
        owner,
        `${batch.id}_output.jsonl`,
        'batch_output',
        lines(repo.results(batch.id, true)),
      )
    ).id;
  const unsent = ending === 'completed' ? null : unsentLines(deps, batch, ending, finished.lines);
  let errors: string | null = null;
  if (finished.failed > 0 || unsent)
    errors = (
      await deps.files.createProduced(
        owner,
        `${batch.id}_error.jsonl`,
        'batch_output',
        concat(lines(repo.results(batch.id, false)), unsent),
      )
    ).id;
  const now = clock.now();
  const at =
    ending === 'completed'
      ? { completed_at: now }
      : ending === 'cancelled'
        ? { cancelled_at: now }
        : { expired_at: now };
  await repo.update(batch.id, {
    status: ending,
    output_file_id: output,
    error_file_id: errors,
    completed: finished.completed,
    failed: finished.failed,
    ...at,
  });
  await repo.dropResults(batch.id);
  return ending;
}

async function* lines(bodies: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const body of bodies) yield `${body}\n`;
}

async function* concat(first: AsyncIterable<string>, second: AsyncIterable<string> | null): AsyncGenerator<string> {
  yield* first;
  if (second) yield* second;
}

/** Error lines for the lines an expired or cancelled batch never sent (as OpenAI reports them). */
async function* unsentLines(
  deps: BatchRunnerDeps,
  batch: BatchesTable,
  ending: 'cancelled' | 'expired',
  finished: Set<number>,
): AsyncGenerator<string> {
  const stream = await deps.blobs.read(blobKeyOf(batch.input_file_id));
  if (!stream) return;
  const [code, message] =
    ending === 'expired'
      ? ['batch_expired', 'This request could not be executed before the completion window expired.']
      : ['batch_cancelled', 'This request was not executed: the batch was cancelled.'];
  for await (const { line, text } of jsonlLines(stream)) {
    if (finished.has(line)) continue;
    let customId: string | null = null;
    try {
      const value = parseLineObject(text, line);
      customId = typeof value.custom_id === 'string' ? value.custom_id : null;
    } catch {
      customId = null;
    }
    yield `${errorLine(`batch_req_${deps.newId('x').slice(2)}`, customId, code, message)}\n`;
  }
}
