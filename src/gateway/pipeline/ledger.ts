import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { costOf, type TokenCounts, ZERO_TOKENS } from '../accounting.js';
import type { CatalogChannel, CatalogModel } from '../catalog.js';
import type { ClientStream } from '../client-stream.js';
import { type GatewayObserver, NOOP_OBSERVER } from '../observer.js';
import type { AdmissionTicket, UsageSink } from '../ports.js';
import type { EndpointKind } from '../protocols.js';
import type { Caller } from './authenticate.js';

export interface Attempt {
  channelId: string;
  /** What the gateway made of the failure (the status the client would have got): 502 for an upstream 500. */
  status: number;
  /** The HTTP status the upstream answered with; null when it sent none (connection failed, timed out, refused before sending). */
  upstreamStatus: number | null;
  error: string;
  ms: number;
}

/** Which bodies the request log keeps (the `logBodies` setting, when not off), and how much of each. */
export interface BodyCapture {
  mode: 'errors' | 'all';
  maxChars: number;
}

export interface LedgerContext {
  requestId: string;
  caller: Caller;
  model: CatalogModel;
  endpoint: EndpointKind;
  stream: boolean;
  clientIp: string;
  /** Set when bodies are logged: the request's body is kept, and the answer given to `respondedWith`. */
  capture?: BodyCapture | undefined;
  /** The client's (parsed) request body, for the log when `capture` is set. */
  requestBody?: unknown;
  /** The HTTP request: its one access log line is written with the usage record (see `hasLedger`). */
  request?: FastifyRequest | undefined;
  /** Set for a line of a batch: its usage row carries the batch id, and the model's batch discount applies. */
  batchId?: string | undefined;
}

/** Requests run without HTTP for a batch (gateway/detached.ts), with their batch's id. */
export const batchOf = new WeakMap<FastifyRequest, string>();

/** The cost of a batch line: the model's price less its batch discount (rounded in the customer's favour). */
export function batchCost(cost: number, discountPercent: number): number {
  if (!(discountPercent > 0)) return cost;
  return cost - Math.ceil((cost * Math.min(discountPercent, 100)) / 100);
}

/** Requests whose ledger writes their access log line (the /v1 access hook skips them). */
const ledgered = new WeakSet<FastifyRequest>();

export function hasLedger(request: FastifyRequest): boolean {
  return ledgered.has(request);
}

/**
 * Everything known about one /v1 request as it runs (channel, attempts, first-token time); `settle`
 * prices the tokens and queues exactly one usage record.
 */
export class RequestLedger {
  channel: CatalogChannel | undefined;
  upstreamModel: string | undefined;
  /** The model that served (a fallback model's prices apply when it did). */
  servedModel: CatalogModel | undefined;
  readonly attempts: Attempt[] = [];
  /** Tokens this request is expected to use (for channels' tokens-per-minute capacity). */
  estimatedTokens = 0;
  /** The limits reservation, settled to the actual cost with the request. */
  admission: AdmissionTicket | undefined;
  /** The tracer's state for this request (tracing on), read only by the observer that set it. */
  trace: unknown;
  /** Milliseconds spent in finished upstream attempts and in backoff between them (not the gateway's own time). */
  upstreamMs = 0;
  waitedMs = 0;
  /** The gateway's own time (not waiting on an upstream), ms: set when the request settles. */
  overheadMs = 0;
  /** The response cache's part: `hit` (answered from it), `miss` (asked, the answer is stored), null (not used). */
  cache: 'hit' | 'miss' | null = null;
  /** A hit's charge, percent of the price the tokens would have had (its upstream cost is 0). */
  hitChargePercent = 0;
  /** Called once the row is written, with its status and tokens (the response cache stores the answer then). */
  onWritten: ((status: number, tokens: TokenCounts) => void) | undefined;
  #attemptAt: number | null = null;
  #ttftMs: number | null = null;
  /** Writes of output to the client, and when the answer ended (settle), for inter-token latency. */
  #outputs = 0;
  #endMs: number | null = null;
  #settled = false;
  /** What the client was answered (kept only when bodies are logged): a body, or a reader of a stream's text. */
  #response: unknown;
  readonly #startedAt = performance.now();
  readonly #at: number;

  constructor(
    readonly ctx: LedgerContext,
    private readonly recorder: UsageSink,
    clock: Clock,
    readonly observer: GatewayObserver = NOOP_OBSERVER,
  ) {
    this.#at = clock.now();
    recorder.expect();
    if (ctx.request) ledgered.add(ctx.request);
    observer.opened(this);
  }

  elapsedMs(): number {
    return performance.now() - this.#startedAt;
  }

  useTarget(channel: CatalogChannel, upstreamModel: string, model: CatalogModel): void {
    this.channel = channel;
    this.upstreamModel = upstreamModel;
    this.servedModel = model;
    this.#attemptAt = this.elapsedMs();
  }

  /** The attempt begun by `useTarget` is over (its time was the upstream's). */
  attemptOver(): void {
    if (this.#attemptAt === null) return;
    this.upstreamMs += this.elapsedMs() - this.#attemptAt;
    this.#attemptAt = null;
  }

  /** Time spent on the upstream so far (the attempt in progress included), ms. */
  upstreamElapsedMs(): number {
    return this.upstreamMs + this.waitedMs + (this.#attemptAt === null ? 0 : this.elapsedMs() - this.#attemptAt);
  }

  /**
   * Mean time between output writes, from the first to the end of the answer, ms (null with fewer than two
   * writes, or before the request settled).
   */
  get interTokenMs(): number | null {
    if (this.#outputs < 2 || this.#ttftMs === null || this.#endMs === null) return null;
    return Math.max(0, this.#endMs - this.#ttftMs) / (this.#outputs - 1);
  }

  /** Time to first token from the start of the request, ms (null until known). */
  get ttftMs(): number | null {
    return this.#ttftMs;
  }

  /**
   * Output went to the client: the first marks time to first token; the others are only counted (the
   * stream's end, at settle, closes the span they share: no clock read per write).
   */
  markFirstToken(): void {
    if (this.#ttftMs === null) this.#ttftMs = Math.round(this.elapsedMs());
    this.#outputs++;
  }

  addAttempt(
    channel: CatalogChannel,
    status: number,
    upstreamStatus: number | null,
    error: string,
    startedMs: number,
  ): void {
    this.attempts.push({
      channelId: channel.id,
      status,
      upstreamStatus,
      error,
      ms: Math.round(this.elapsedMs() - startedMs),
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** The answer's body, for the log (when bodies are logged; serialised only when the row is written). */
  respondedWith(body: unknown): void {
    if (this.ctx.capture) this.#response = body;
  }

  /** Log what a stream sends its client (when bodies are logged): the SSE text as written. */
  recordStream(client: ClientStream): void {
    const capture = this.ctx.capture;
    if (!capture) return;
    client.record(capture.maxChars);
    this.#response = () => client.transcript;
  }

  /**
   * Record the request once, with its final status and the tokens to bill. Tokens still being counted
   * (an estimate from the tokenizer worker) are awaited off the request path; the recorder's flush and
   * close wait for them, so the record is neither lost nor late for a reader. Until this runs, a shutdown
   * waits for the request (it was announced to the recorder when the ledger opened).
   */
  settle(status: number, errorCode: string | null, tokens: TokenCounts | Promise<TokenCounts> = ZERO_TOKENS): void {
    if (this.#settled) return;
    this.#settled = true;
    const elapsed = this.elapsedMs();
    this.#endMs = elapsed;
    const latencyMs = Math.round(elapsed);
    this.overheadMs = Math.max(0, elapsed - this.upstreamElapsedMs());
    this.observer.settling(this, status, errorCode);
    try {
      if (tokens instanceof Promise) {
        // A count that fails still leaves the row (unbilled, marked estimated) rather than none.
        const written = tokens.then(
          (counted) => this.write(status, errorCode, counted, latencyMs),
          (error: unknown) => {
            this.write(status, errorCode, { ...ZERO_TOKENS, estimated: true }, latencyMs);
            throw error;
          },
        );
        this.recorder.track(written);
      } else this.write(status, errorCode, tokens, latencyMs);
    } finally {
      this.recorder.fulfil();
    }
  }

  private write(status: number, errorCode: string | null, tokens: TokenCounts, latencyMs: number): void {
    const { ctx } = this;
    const priced = this.servedModel ?? ctx.model;
    const listCost = costOf(tokens, priced.prices);
    let cost = ctx.batchId === undefined ? listCost : batchCost(listCost, priced.batchDiscountPercent);
    // What the customer is charged, before their multiplier (modules/billing/charges.ts applies it).
    let charge = cost;
    if (this.cache === 'hit') {
      charge = Math.round((cost * this.hitChargePercent) / 100);
      cost = 0;
    }
    const capture = ctx.capture;
    const keep = capture !== undefined && (capture.mode === 'all' || status >= 400);
    this.admission?.settle(charge, tokens.prompt + tokens.completion);
    this.observer.settled(this, { status, errorCode, tokens, costMicros: cost, latencyMs });
    this.recorder.record({
      id: ctx.requestId,
      at: this.#at,
      user_id: ctx.caller.userId,
      key_id: ctx.caller.keyId,
      org_id: ctx.caller.orgId,
      team_id: ctx.caller.teamId,
      channel_id: this.channel?.id ?? null,
      model: ctx.model.name,
      upstream_model: this.upstreamModel ?? null,
      endpoint: ctx.endpoint,
      stream: ctx.stream ? 1 : 0,
      status,
      error_code: errorCode,
      prompt_tokens: tokens.prompt,
      completion_tokens: tokens.completion,
      cached_tokens: tokens.cached,
      reasoning_tokens: tokens.reasoning,
      estimated: tokens.estimated ? 1 : 0,
      cost_micros: cost,
      // At cost until the billing sink applies the customer's multiplier (modules/billing/charges.ts).
      price_micros: charge,
      latency_ms: latencyMs,
      ttft_ms: this.#ttftMs,
      client_ip: ctx.clientIp,
      attempts: this.attempts.length > 0 ? JSON.stringify(this.attempts) : null,
      request_body: keep ? bodyText(ctx.requestBody, capture.maxChars) : null,
      response_body: keep ? bodyText(this.#response, capture.maxChars) : null,
      batch_id: ctx.batchId ?? null,
      cache: this.cache,
    });
    this.onWritten?.(status, tokens);
    const request = ctx.request;
    if (request) {
      // The root logger, not the request's child: a child costs an object and its bindings per request.
      const { method } = request;
      const path = request.url.split('?')[0];
      request.server.log.info(
        {
          reqId: ctx.requestId,
          method,
          path,
          model: ctx.model.name,
          status,
          promptTokens: tokens.prompt,
          completionTokens: tokens.completion,
          ms: latencyMs,
        },
        `${method} ${path} ${status} ${ctx.model.name} ${tokens.prompt}+${tokens.completion} tokens ${latencyMs} ms`,
      );
    }
  }
}

/** A body as logged: text as it is, anything else as JSON (a function is asked for its text), cut to `max`. */
function bodyText(body: unknown, max: number): string | null {
  let text: string | undefined;
  try {
    const value = typeof body === 'function' ? (body as () => unknown)() : body;
    text = typeof value === 'string' ? value : value === undefined ? undefined : JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined || text === '') return null;
  if (text.length <= max) return text;
  // Never split a surrogate pair: the stored text stays valid UTF-16.
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…[cut at ${max} characters]`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
