/**
 * An endpoint is a declared unit: protocol in (check the client's body, make the canonical call), the
 * adapter call by capability (one attempt against one target), protocol out (answer, stream events,
 * error shape). The gateway runs every endpoint through the same stages and the same dispatch loop
 * (attempts, failover, backoff); an endpoint never hand-writes attempts. A new /v1 surface is one file
 * here plus one line in ../routes.ts.
 */
import type { FastifyRequest } from 'fastify';
import type { TokenCounts } from '../accounting.js';
import type { ClientStream } from '../client-stream.js';
import type { UsageEstimate } from '../pipeline/admit.js';
import type { StreamSink } from '../pipeline/chat-attempt.js';
import type { Attempt } from '../pipeline/dispatch.js';
import type { RequestLedger } from '../pipeline/ledger.js';
import type { Target } from '../pipeline/route.js';
import type { UpstreamClient } from '../pipeline/upstream.js';
import type { EndpointKind } from '../protocols.js';

/** One request in flight, as an attempt sees it. */
export interface Exchange<Call> {
  readonly call: Call;
  readonly ledger: RequestLedger;
  readonly client: ClientStream;
  /** This protocol's stream writer; set when the request streams. */
  readonly sink: StreamSink | undefined;
  readonly upstream: UpstreamClient;
}

/** A non-stream answer: the body for the client (or the upstream's own bytes) and the tokens to bill. */
export interface Answer {
  body: unknown;
  /** The upstream's bytes, forwarded as they came (same protocol, well formed). */
  raw?: string | undefined;
  tokens: TokenCounts | Promise<TokenCounts>;
  /**
   * The answer is not JSON: `raw` (text: a transcript as SRT) or `body` (a stream of audio bytes, sent as
   * it arrives) goes out with this content type.
   */
  contentType?: string | undefined;
  /** What the request log keeps of the answer when bodies are logged (metadata instead of image or audio bytes). */
  logged?: unknown;
}

export interface Endpoint<Call, Result> {
  /** What the request log records, and which error shape the client gets. */
  readonly kind: EndpointKind;
  /** Protocol in: check the body (no coercion) and make the call; throws the client's 400. */
  accept(request: FastifyRequest): Call;
  model(call: Call): string;
  streams(call: Call): boolean;
  /** What the request may consume, for the limits' reservation (called only when a limit needs it). */
  estimate(call: Call): UsageEstimate;
  /** Protocol out of a stream: the writer of this protocol's events. */
  sink(call: Call, ledger: RequestLedger): StreamSink | undefined;
  /**
   * The adapter call: one attempt against one target, chosen by the adapter's declared capabilities.
   * A stream attempt writes to the client and settles the ledger itself.
   */
  attempt(x: Exchange<Call>, attempt: Attempt): Promise<Result>;
  /**
   * Narrow the routed targets for this request (a follow-up that must stay on the channel holding its
   * conversation); throws the client's error when none is left. Absent: every target.
   */
  targets?(x: Exchange<Call>, planned: Target[]): Target[];
  /** Protocol out of a non-stream answer. */
  answer(call: Call, result: Result): Answer;
}
