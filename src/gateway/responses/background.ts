/**
 * Background responses (`background: true`) as durable jobs. `POST /v1/responses` keeps the response as
 * `queued` and queues a `responses.background` job; the job (on any instance that runs workers) runs the
 * request through the whole pipeline as the key that created it (DetachedRunner: limits, budgets, routing
 * with failover, usage row), moving the stored response queued → in_progress → completed / failed /
 * incomplete. `POST /v1/responses/{id}/cancel` stores `cancelled` and cancels the job, whose signal aborts
 * the upstream request. A shutdown puts the running job back in the queue (the response goes back to
 * `queued`); the next start runs it again, so a restart loses none.
 */
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { JobContext, JobQueue } from '../../jobs/types.js';
import type { ResponseObject, ResponsesRequest } from '../../providers/openai/responses/types.js';
import type { DetachedRunner } from '../detached.js';
import { type FollowUp, previousNotFound } from '../endpoints/responses.js';
import type { ResponseOwner, ResponseStore, StoredResponse } from './state.js';

export const BACKGROUND_RESPONSE_JOB = 'responses.background';

/** What the job needs to run the request again, anywhere: the body, and who sent it from where. */
export interface BackgroundPayload {
  responseId: string;
  orgId: string | null;
  keyId: string | null;
  clientIp: string;
  body: ResponsesRequest;
}

export interface BackgroundDeps {
  runner: DetachedRunner;
  store: ResponseStore;
  clock: Clock;
}

const RUNNING = new Set(['queued', 'in_progress']);

/** Register the background-response job type on the queue. */
export function registerBackgroundResponses(jobs: JobQueue, deps: BackgroundDeps): void {
  jobs.define<BackgroundPayload, { status: string }>({
    type: BACKGROUND_RESPONSE_JOB,
    // Several responses at once per instance: each mostly waits for its upstream.
    concurrency: 8,
    // A failed request is an answer (the response is `failed`); only an interrupted run is tried again.
    attempts: 5,
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    handler: (context) => runBackground(deps, context),
  });
}

/** The request id of one run: the accepting request's for the first attempt (its usage row), unique after. */
function requestIdOf(responseId: string, attempt: number): string {
  const base = `req_${responseId.replace(/^resp_/, '')}`;
  return attempt <= 1 ? base : `${base}_r${attempt}`;
}

/** The OpenAI error of an answer's body (`{ error: { code, message } }`). */
function errorOf(body: unknown): { code: string; message: string } {
  const error = (body as { error?: { code?: unknown; type?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === 'string' ? error.code : typeof error?.type === 'string' ? error.type : 'error';
  const message = typeof error?.message === 'string' ? error.message : 'The background run failed';
  return { code, message };
}

async function runBackground(
  deps: BackgroundDeps,
  context: JobContext<BackgroundPayload>,
): Promise<{ status: string }> {
  const { store, runner } = deps;
  const { responseId, body, clientIp } = context.payload;
  const owner: ResponseOwner = { orgId: context.payload.orgId, keyId: context.payload.keyId };
  const stored = await store.find(owner, responseId);
  // Deleted, expired, cancelled while queued, or finished by an earlier attempt: nothing to run.
  if (!stored) return { status: 'missing' };
  if (!RUNNING.has(stored.response.status)) return { status: stored.response.status };
  const queued: ResponseObject = { ...stored.response, status: 'queued' };
  const fail = async (error: { code: string; message: string }) => {
    store.save({ ...stored, response: { ...queued, status: 'failed', error } });
    await store.find(owner, responseId);
    return { status: 'failed' };
  };

  let caller: Awaited<ReturnType<DetachedRunner['callerFor']>>;
  let followUp: FollowUp | undefined;
  try {
    caller = await runner.callerFor(owner.keyId);
    if (stored.previousResponseId !== null) {
      followUp = await store.conversation(owner, stored.previousResponseId);
      if (!followUp) throw previousNotFound(stored.previousResponseId);
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return fail({ code: error.code, message: error.message });
  }

  store.save({ ...stored, response: { ...queued, status: 'in_progress' } });
  const answer = await runner.run('/v1/responses', caller, {
    requestId: requestIdOf(responseId, context.attempt),
    body,
    clientIp,
    signal: context.signal,
    background: { responseId, followUp },
  });
  // A cancelled job (both queues abort with "cancelled"): cancelled, whatever the run wrote meanwhile.
  const reason: unknown = context.signal.reason;
  if (context.signal.aborted && reason instanceof Error && reason.message === 'cancelled') {
    const latest = (await store.find(owner, responseId)) ?? stored;
    if (latest.response.status !== 'cancelled')
      store.save({ ...latest, response: { ...latest.response, status: 'cancelled' } });
    await store.find(owner, responseId);
    return { status: 'cancelled' };
  }
  const now = await store.find(owner, responseId);
  if (now?.response.status === 'cancelled') return { status: 'cancelled' };
  if (context.signal.aborted && answer.status >= 400) {
    // Shut down (or timed out) mid-run: queued again; the next attempt runs the request again.
    store.save({ ...stored, response: queued });
    await store.find(owner, responseId);
    throw new Error(`background response ${responseId} was interrupted; it runs again`);
  }
  if (answer.status >= 400) return fail(errorOf(answer.body));
  // The pipeline stored the finished response (completed or incomplete) under this id.
  return { status: now?.response.status ?? 'completed' };
}

/**
 * Accept a background request: keep its `queued` response (written before the client hears of it) and queue
 * the job that runs it; the job's id is kept with the response (for cancel).
 */
export async function queueBackground(
  jobs: JobQueue,
  store: ResponseStore,
  stored: StoredResponse,
  payload: BackgroundPayload,
  userId: string | null,
): Promise<void> {
  store.save(stored);
  if (!(await store.find(stored.owner, stored.id)))
    throw new ApiError('internal_error', 'The background response could not be stored');
  const job = await jobs.enqueue(BACKGROUND_RESPONSE_JOB, payload, { orgId: stored.owner.orgId, userId });
  await store.setJob(stored.id, job.id);
}
