/**
 * Stored responses of the Responses API: written after the answer (never awaited by the request), read by
 * id within the owner's organization and key, expired by the `responsesRetentionDays` setting, and walked
 * back through `previous_response_id` to rebuild a conversation for channels that keep no state.
 */
import type { Clock } from '../../core/clock.js';
import type { ResponseOwner, ResponseStore, StoredResponse } from '../../gateway/index.js';
import type { ResponseObject } from '../../providers/openai/responses/types.js';
import type { JsonObject } from '../../providers/types.js';
import type { ResponsesRepository } from './repository.js';

/** Items of a stored output that another provider can take as conversation history. */
const HISTORY_TYPES = new Set(['message', 'function_call', 'function_call_output', 'reasoning']);

/** How many responses back a conversation is rebuilt at most (a longer chain is a client's loop gone wrong). */
const MAX_CHAIN = 1000;

const DAY_MS = 86_400_000;

export class ResponsesStore implements ResponseStore {
  /** Writes in flight, by response id: a read of the same id waits for its write. */
  readonly #pending = new Map<string, Promise<void>>();
  #report: (error: unknown) => void = () => undefined;

  constructor(
    private readonly repo: ResponsesRepository,
    private readonly clock: Clock,
    private readonly options: { retentionDays: () => number },
  ) {}

  /** Where a failed write is reported (the response is then not kept; the client already has its answer). */
  reportErrorsTo(report: (error: unknown) => void): void {
    this.#report = report;
  }

  /** Queue a write (the request does not wait for it); a response kept before (queued) is updated. */
  save(stored: StoredResponse): void {
    const row = {
      id: stored.id,
      org_id: stored.owner.orgId,
      key_id: stored.owner.keyId,
      user_id: stored.userId,
      model: stored.model,
      status: stored.response.status,
      channel_id: stored.channelId,
      provider_key_id: stored.providerKeyId,
      native: stored.native ? 1 : 0,
      previous_response_id: stored.previousResponseId,
      input: JSON.stringify(stored.input),
      response: JSON.stringify(stored.response),
      created_at: stored.createdAt,
      job_id: stored.jobId ?? null,
    };
    // A later write of the same id (a background run finishing) starts after the earlier one.
    const previous = this.#pending.get(stored.id);
    const write: Promise<void> = (previous ? previous.then(() => this.repo.upsert(row)) : this.repo.upsert(row))
      .catch((error: unknown) => this.#report(error))
      .finally(() => {
        if (this.#pending.get(stored.id) === write) this.#pending.delete(stored.id);
      });
    this.#pending.set(stored.id, write);
  }

  async find(owner: ResponseOwner, id: string): Promise<StoredResponse | undefined> {
    await this.#pending.get(id);
    const row = await this.repo.find(owner, id, this.cutoff());
    if (!row) return undefined;
    return {
      id: row.id,
      owner: { orgId: row.org_id, keyId: row.key_id },
      userId: row.user_id,
      model: row.model,
      channelId: row.channel_id,
      providerKeyId: row.provider_key_id,
      native: row.native === 1,
      previousResponseId: row.previous_response_id,
      input: JSON.parse(row.input) as JsonObject[],
      response: JSON.parse(row.response) as ResponseObject,
      createdAt: row.created_at,
      jobId: row.job_id,
    };
  }

  async setJob(id: string, jobId: string): Promise<void> {
    await this.#pending.get(id);
    await this.repo.setJob(id, jobId);
  }

  async delete(owner: ResponseOwner, id: string): Promise<boolean> {
    await this.#pending.get(id);
    return this.repo.delete(owner, id);
  }

  /**
   * The conversation up to and including response `id`: every earlier input and output item in order,
   * with the response itself; undefined when it (or a response it follows) is unknown to this owner.
   */
  async conversation(
    owner: ResponseOwner,
    id: string,
  ): Promise<{ previous: StoredResponse; items: JsonObject[] } | undefined> {
    const chain: StoredResponse[] = [];
    let next: string | null = id;
    while (next !== null && chain.length < MAX_CHAIN) {
      const stored: StoredResponse | undefined = await this.find(owner, next);
      if (!stored) return undefined;
      chain.push(stored);
      next = stored.previousResponseId;
    }
    const items: JsonObject[] = [];
    for (const stored of chain.reverse()) {
      items.push(...stored.input);
      for (const item of stored.response.output) if (HISTORY_TYPES.has(item.type)) items.push(item);
    }
    return { previous: chain[chain.length - 1] as StoredResponse, items };
  }

  /** Delete what the retention setting no longer keeps (0 days: keep forever). */
  purge(): Promise<number> {
    const days = this.options.retentionDays();
    return days > 0 ? this.repo.deleteOlderThan(this.clock.now() - days * DAY_MS) : Promise.resolve(0);
  }

  /** Wait for the writes in flight (shutdown). */
  async drain(): Promise<void> {
    await Promise.all(this.#pending.values());
  }

  private cutoff(): number {
    const days = this.options.retentionDays();
    return days > 0 ? this.clock.now() - days * DAY_MS : 0;
  }
}
