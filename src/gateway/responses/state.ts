/**
 * The data plane's port to stored Responses-API responses (implemented by src/modules/responses): what
 * `store` keeps, `GET /v1/responses/{id}` reads and `previous_response_id` follows.
 */
import type { ResponseObject } from '../../providers/openai/responses/types.js';
import type { JsonObject } from '../../providers/types.js';

/** Who owns a stored response: the organization and the API key that created it (null for the master key). */
export interface ResponseOwner {
  orgId: string | null;
  keyId: string | null;
}

export interface StoredResponse {
  id: string;
  owner: ResponseOwner;
  userId: string | null;
  /** The public model name the client asked for. */
  model: string;
  channelId: string | null;
  providerKeyId: string | null;
  /** The upstream served /responses itself and holds the conversation: follow-ups go to the same channel and key. */
  native: boolean;
  previousResponseId: string | null;
  /** This request's input items, each with an id. */
  input: JsonObject[];
  response: ResponseObject;
  /** Epoch milliseconds. */
  createdAt: number;
  /** A background response: the job that runs it (set once it is queued). */
  jobId?: string | null;
}

export interface ResponseStore {
  /** Keep a response (written after the answer; the request never waits for it). */
  save(stored: StoredResponse): void;
  /** The owner's response, unless expired; waits for its write when it is still in flight. */
  find(owner: ResponseOwner, id: string): Promise<StoredResponse | undefined>;
  delete(owner: ResponseOwner, id: string): Promise<boolean>;
  /** Remember the job that runs background response `id` (after its writes in flight). */
  setJob(id: string, jobId: string): Promise<void>;
  /** Every input and output item up to and including response `id` (in order), with that response. */
  conversation(
    owner: ResponseOwner,
    id: string,
  ): Promise<{ previous: StoredResponse; items: JsonObject[] } | undefined>;
}
