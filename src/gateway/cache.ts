/**
 * The response cache (docs/response-cache.md): an exact-match cache of answers, used when the client asks
 * (`x-aihub-cache: on|refresh`), or its key or model opted in (and the client did not say `off`). An entry is
 * found by a hash of the caller's organization, the endpoint, the model, whether it streams and the request
 * body as sent — never shared across organizations. A stream is stored as the SSE text the client got and
 * replayed as it was. Only whole, successful answers are stored.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../core/errors.js';
import type { TokenCounts } from './accounting.js';
import type { CatalogModel } from './catalog.js';
import type { Caller } from './pipeline/authenticate.js';
import type { EndpointKind } from './protocols.js';

/** An answer as stored: what the client got, and the tokens the original request used. */
export interface CachedAnswer {
  /** A JSON body, or a stream's SSE text as sent. */
  body: string;
  stream: boolean;
  contentType: string;
  tokens: Pick<TokenCounts, 'prompt' | 'completion' | 'cached' | 'reasoning'>;
}

/** Where entries live: the database, or Redis when the instance has it (src/modules/response-cache/). */
export interface ResponseCacheStore {
  get(key: string): Promise<CachedAnswer | undefined>;
  /** Store (replacing) an entry for `ttlMs`, off the request path: never throws, never waits for the write. */
  set(key: string, orgId: string | null, answer: CachedAnswer, ttlMs: number): void;
}

export interface ResponseCacheSettings {
  /** TTL of an entry when its model sets none, ms. */
  defaultTtlMs: number;
  /** Larger answers are not stored. */
  maxEntryBytes: number;
  /** What a hit is charged, in percent of the original request's price. */
  hitChargePercent: number;
}

/** The endpoints whose answers are cached (stateless ones: not the Responses API, which stores its own). */
const CACHEABLE: ReadonlySet<EndpointKind> = new Set([
  'chat',
  'messages',
  'embeddings',
  'completions',
  'rerank',
  'moderations',
  'generate_content',
  'embed_content',
]);

/** What the cache does for one request: look up (unless refreshing) and store under `key` for `ttlMs`. */
export interface CachePlan {
  key: string;
  lookup: boolean;
  ttlMs: number;
}

export const CACHE_HEADER = 'x-aihub-cache';

export class ResponseCache {
  constructor(
    private readonly store: ResponseCacheStore,
    readonly settings: () => ResponseCacheSettings,
  ) {}

  /**
   * The plan for a request, or null when the cache is not used: the client said `off`, or nobody opted in
   * (neither the request, nor its key, nor its model). Costs a header read and two field reads otherwise.
   */
  plan(
    kind: EndpointKind,
    request: FastifyRequest,
    caller: Caller,
    model: CatalogModel,
    stream: boolean,
  ): CachePlan | null {
    const asked = request.headers[CACHE_HEADER];
    if (asked === undefined && !caller.responseCache && model.cacheTtlMs === null) return null;
    const mode = asked === undefined ? undefined : cacheMode(asked);
    if (mode === 'off' || !CACHEABLE.has(kind)) return null;
    return {
      key: cacheKey(caller.orgId, kind, model.name, stream, request.body),
      lookup: mode !== 'refresh',
      ttlMs: model.cacheTtlMs ?? this.settings().defaultTtlMs,
    };
  }

  get(key: string): Promise<CachedAnswer | undefined> {
    return this.store.get(key);
  }

  /** Store a whole answer (unless it is larger than the setting allows). */
  put(plan: CachePlan, orgId: string | null, answer: CachedAnswer): void {
    if (Buffer.byteLength(answer.body) > this.settings().maxEntryBytes) return;
    this.store.set(plan.key, orgId, answer, plan.ttlMs);
  }
}

/**
 * The entry's key: SHA-256 over the organization, endpoint, model, stream flag and the body as the client
 * sent it (JSON.stringify keeps the client's key order: an exact match, not a semantic one).
 */
export function cacheKey(
  orgId: string | null,
  kind: EndpointKind,
  model: string,
  stream: boolean,
  body: unknown,
): string {
  return createHash('sha256')
    .update(`${orgId ?? ''}\u0000${kind}\u0000${model}\u0000${stream ? 's' : 'j'}\u0000`)
    .update(JSON.stringify(body ?? null))
    .digest('base64url');
}

/** The `x-aihub-cache` request header: on, off or refresh; anything else is the client's 400. */
function cacheMode(value: string | string[]): 'on' | 'off' | 'refresh' {
  const mode = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (mode === 'on' || mode === 'off' || mode === 'refresh') return mode;
  throw new ApiError('bad_request', `Header ${CACHE_HEADER} must be on, off or refresh`, { param: CACHE_HEADER });
}
