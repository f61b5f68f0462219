/**
 * The data plane's facade. A /v1 request runs the stages of ./pipeline/ in order —
 * authenticate → admit → route + dispatch (one loop for every endpoint) → settle — for an endpoint
 * declared in ./endpoints/. Routes and the control plane use only the methods below; nothing inside is
 * public.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { ApiError } from '../core/errors.js';
import type { TokenCounts } from './accounting.js';
import type { CachedAnswer, CachePlan, ResponseCache } from './cache.js';
import type { Catalog, CatalogModel } from './catalog.js';
import { ClientStream } from './client-stream.js';
import { chatCompletions } from './endpoints/chat-completions.js';
import type { Endpoint, Exchange } from './endpoints/endpoint.js';
import type { UpstreamInspector, UpstreamSpec } from './health/inspector.js';
import type { HealthRegistry } from './health/registry.js';
import { type ChannelTestFilter, type ChannelTestRow, testChannels } from './health/test-all.js';
import type { ChannelTester, ChannelTestResult } from './health/tester.js';
import type { GatewayObserver } from './observer.js';
import { Admitter } from './pipeline/admit.js';
import { authenticateCaller, type Caller, callerOfKey, MASTER_CALLER, mayUseModel } from './pipeline/authenticate.js';
import type { Dispatcher } from './pipeline/dispatch.js';
import { CLIENT_CLOSED, CommittedFailure } from './pipeline/failure.js';
import type { RequestLedger } from './pipeline/ledger.js';
import { modelReachable } from './pipeline/route.js';
import { fail, responseHeaders } from './pipeline/settle.js';
import type { UpstreamClient } from './pipeline/upstream.js';
import type { Admission, GatewaySettings, KeyLookup, LimitsLookup, UsageSink } from './ports.js';

export interface GatewayDeps {
  catalog: Catalog;
  keys: KeyLookup;
  usage: UsageSink;
  admission: Admission;
  limits: LimitsLookup;
  settings: Pick<GatewaySettings, 'exposeChannelHeader' | 'bodyCapture'>;
  dispatcher: Dispatcher;
  upstream: UpstreamClient;
  health: HealthRegistry;
  tester: ChannelTester;
  /** Upstream account questions: model lists, balances. */
  inspector: UpstreamInspector;
  clock: Clock;
  masterKey: string | undefined;
  /** Key-level allowed-IP check (CIDR lists). */
  ipAllowed: (ip: string, cidrs: string[]) => boolean;
  observer?: GatewayObserver | undefined;
  /** The response cache (docs/response-cache.md); absent: never used. */
  cache?: ResponseCache | undefined;
}

const addressMessage = (ip: string) => `This API key may not be used from ${ip}`;

export class Gateway {
  readonly #deps: GatewayDeps;
  readonly #admitter: Admitter;
  /** Non-stream answers of cache misses, until their row is written and the answer stored. */
  readonly #answers = new WeakMap<RequestLedger, unknown>();

  constructor(deps: GatewayDeps) {
    this.#deps = deps;
    this.#admitter = new Admitter({
      catalog: deps.catalog,
      usage: deps.usage,
      admission: deps.admission,
      limits: deps.limits,
      settings: deps.settings,
      clock: deps.clock,
      observer: deps.observer,
    });
  }

  /** Stage 1: who is calling, with the key's address restriction applied (every /v1 route goes through here). */
  async authenticate(request: FastifyRequest): Promise<Caller> {
    const caller = await authenticateCaller(request, this.#deps.keys, this.#deps.masterKey);
    if (this.addressRefused(caller, request.ip)) throw new ApiError('ip_not_allowed', addressMessage(request.ip));
    return caller;
  }

  /** The caller for a virtual key known by id, checked now (revoked, disabled, expired: refused with 401). */
  async callerForKey(keyId: string): Promise<Caller> {
    return callerOfKey(await this.#deps.keys.verifyId(keyId));
  }

  /**
   * The caller for a key known by id, or for the master key (null) while it is still configured: work queued
   * by a caller (a background response) runs as that caller, checked again when it runs.
   */
  async callerFor(keyId: string | null): Promise<Caller> {
    if (keyId !== null) return this.callerForKey(keyId);
    if (!this.#deps.masterKey) throw new ApiError('invalid_api_key', 'The master key is no longer configured');
    return MASTER_CALLER;
  }

  /**
   * Serve one request of `endpoint` for `caller`, or for the request's API key when null: every stage in
   * order. Returns the answer for Fastify (the reply itself once a stream was written).
   */
  async serve<Call, Result>(
    endpoint: Endpoint<Call, Result>,
    request: FastifyRequest,
    reply: FastifyReply,
    caller: Caller | null,
  ): Promise<unknown> {
    const call = endpoint.accept(request);
    const stream = endpoint.streams(call);
    const model = endpoint.model(call);
    const estimate = () => endpoint.estimate(call);
    let who = caller;
    if (!who) {
      who = await authenticateCaller(request, this.#deps.keys, this.#deps.masterKey);
      if (this.addressRefused(who, request.ip)) {
        const message = addressMessage(request.ip);
        throw this.#admitter.refuse(request, who, model, endpoint.kind, stream, 'ip_not_allowed', message);
      }
    }
    const ledger = await this.#admitter.admit(who, request, model, endpoint.kind, stream, estimate);
    const client = new ClientStream(reply, () => this.headersFor(ledger));
    const sink = stream ? endpoint.sink(call, ledger) : undefined;
    const x: Exchange<Call> = { call, ledger, client, sink, upstream: this.#deps.upstream };
    try {
      const cache = this.#deps.cache;
      const plan = cache ? cache.plan(endpoint.kind, request, who, ledger.ctx.model, stream) : null;
      if (plan && cache) {
        const hit = plan.lookup ? await cache.get(plan.key) : undefined;
        if (hit && hit.stream === stream) return this.replay(hit, ledger, client, reply, cache);
        this.storeAnswer(plan, ledger, client, cache);
      }
      if (sink) {
        ledger.recordStream(client);
        try {
          await this.#deps.dispatcher.run(x, endpoint);
        } catch (error) {
          // Reported inside the stream, and settled.
          if (!(error instanceof CommittedFailure)) throw error;
        }
        return reply;
      }
      const result = await this.#deps.dispatcher.run(x, endpoint);
      const answer = endpoint.answer(call, result);
      if (ledger.cache === 'miss') this.#answers.set(ledger, answer.raw ?? answer.body);
      ledger.respondedWith(answer.logged ?? answer.raw ?? answer.body);
      if (answer.body instanceof Readable) settleWhenSent(ledger, answer.body, reply, answer.tokens);
      else ledger.settle(200, null, answer.tokens);
      reply.headers(this.headersFor(ledger));
      if (answer.contentType !== undefined) {
        reply.type(answer.contentType);
        return answer.raw ?? answer.body;
      }
      if (answer.raw === undefined) return answer.body;
      // The upstream's own bytes: a same-protocol answer needs no translation, and re-serialising costs CPU.
      reply.type('application/json; charset=utf-8');
      return answer.raw;
    } catch (error) {
      throw fail(ledger, error);
    }
  }

  /** Answer from the cache: the stored body (or the stream's text, replayed), logged as a hit at no upstream cost. */
  private replay(
    hit: CachedAnswer,
    ledger: RequestLedger,
    client: ClientStream,
    reply: FastifyReply,
    cache: ResponseCache,
  ): unknown {
    ledger.cache = 'hit';
    ledger.hitChargePercent = cache.settings().hitChargePercent;
    const tokens = { ...hit.tokens, estimated: false };
    ledger.markFirstToken();
    if (hit.stream) {
      ledger.recordStream(client);
      client.end(hit.body);
      ledger.settle(200, null, tokens);
      return reply;
    }
    ledger.respondedWith(hit.body);
    ledger.settle(200, null, tokens);
    reply.headers(this.headersFor(ledger));
    reply.type(hit.contentType);
    return hit.body;
  }

  /** A miss: keep the answer as the client gets it, and store it once the request settled with success. */
  private storeAnswer(plan: CachePlan, ledger: RequestLedger, client: ClientStream, cache: ResponseCache): void {
    ledger.cache = 'miss';
    const maxBytes = cache.settings().maxEntryBytes;
    if (ledger.ctx.stream) client.record(maxBytes);
    ledger.onWritten = (status, tokens) => {
      if (status !== 200) return;
      let body: string;
      if (ledger.ctx.stream) {
        body = client.transcript;
        // Cut off (longer than the largest entry) or not ended: not a whole answer.
        if (body.length > maxBytes || !client.ended) return;
      } else {
        const answer = this.#answers.get(ledger);
        if (answer === undefined) return;
        body = typeof answer === 'string' ? answer : JSON.stringify(answer);
      }
      const { prompt, completion, cached, reasoning } = tokens;
      cache.put(plan, ledger.ctx.caller.orgId, {
        body,
        stream: ledger.ctx.stream,
        contentType: ledger.ctx.stream ? 'text/event-stream; charset=utf-8' : 'application/json; charset=utf-8',
        tokens: { prompt, completion, cached, reasoning },
      });
    };
  }

  /** A chat completion (streamed or not) as `caller` — the console's playground signs in with a session. */
  chatCompletionAs(caller: Caller, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    return this.serve(chatCompletions, request, reply, caller);
  }

  /** Active models the caller may use (by name and by channel group), by name. */
  visibleModels(caller: Caller): CatalogModel[] {
    const out: CatalogModel[] = [];
    const catalog = this.#deps.catalog;
    const lookup = (name: string) => catalog.getModel(name);
    for (const model of catalog.allModels())
      if (model.active && mayUseModel(caller, model.name) && modelReachable(model, caller.channelLimits, lookup))
        out.push(model);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Send a one-token chat request through a channel (enabled or not) to check its URL, key and model. */
  testChannel(channelId: string, model?: string): Promise<ChannelTestResult> {
    return this.#deps.tester.test(channelId, model);
  }

  /** Test many channels a few at a time; `onRow` gets each result as soon as it is known. */
  testChannels(filter: ChannelTestFilter, onRow: (row: ChannelTestRow) => void, signal?: AbortSignal): Promise<number> {
    return testChannels(this.#deps.catalog, this.#deps.tester, filter, onRow, signal);
  }

  /** The models a channel's upstream lists (a saved channel by id, or one named in full). */
  upstreamModels(channel: string | UpstreamSpec): Promise<string[]> {
    const inspector = this.#deps.inspector;
    return typeof channel === 'string' ? inspector.channelModels(channel) : inspector.specModels(channel);
  }

  /** The balance a channel's upstream account reports. */
  upstreamBalance(channelId: string): ReturnType<UpstreamInspector['channelBalance']> {
    return this.#deps.inspector.channelBalance(channelId);
  }

  /** The channel's live health on this instance (breakers, latency, last probe). */
  channelHealth(channelId: string): ReturnType<HealthRegistry['summary']> {
    return this.#deps.health.summary(channelId);
  }

  /** Start the channel's health afresh (an admin edited it: new key, URL or re-enable). */
  resetChannelHealth(channelId: string): void {
    this.#deps.health.resetChannel(channelId);
  }

  private addressRefused(caller: Caller, ip: string): boolean {
    return caller.allowedIps !== null && !this.#deps.ipAllowed(ip, caller.allowedIps);
  }

  private headersFor(ledger: RequestLedger): Record<string, string> {
    return responseHeaders(ledger, this.#deps.settings.exposeChannelHeader());
  }
}

/**
 * A body streamed to the client as it arrives (speech audio) settles when it has been sent: 200 once the last
 * byte is written, 502 when the upstream breaks off mid-way, 499 when the client leaves first. It is billed by
 * what was known before (its input), whichever way it ends.
 */
function settleWhenSent(
  ledger: RequestLedger,
  body: Readable,
  reply: FastifyReply,
  tokens: TokenCounts | Promise<TokenCounts>,
): void {
  let settled = false;
  const settle = (status: number, code: string | null) => {
    if (settled) return;
    settled = true;
    ledger.settle(status, code, tokens);
  };
  body.once('error', () => settle(502, 'upstream_error'));
  reply.raw.once('finish', () => settle(200, null));
  reply.raw.once('close', () =>
    body.errored ? settle(502, 'upstream_error') : settle(CLIENT_CLOSED, 'client_closed'),
  );
}
