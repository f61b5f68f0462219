/**
 * What the data plane tells observability (metrics, traces), at its stages' boundaries: the one place
 * that emits them (DESIGN.md §7b). The data plane owns this interface; src/observability/ implements it.
 * When observability is off the gateway holds {@link NOOP_OBSERVER}: a handful of empty calls per request,
 * nothing allocated.
 */
import type { TokenCounts } from './accounting.js';
import type { CatalogChannel } from './catalog.js';
import type { RequestLedger } from './pipeline/ledger.js';

/** How a request ended, as it was billed. */
export interface SettledRequest {
  status: number;
  errorCode: string | null;
  tokens: TokenCounts;
  costMicros: number;
  latencyMs: number;
}

/** How one upstream attempt ended: the status the gateway made of it, and the upstream's own. */
export interface AttemptOutcome {
  status: number;
  upstreamStatus: number | null;
  errorCode: string | null;
  ms: number;
}

/** Refusals of the admission stage that operators count apart. */
export type Refusal = 'rate_limit' | 'budget';

export interface GatewayObserver {
  /** A request's ledger opened (admitted or refused): it is in flight until `settling`. */
  opened(ledger: RequestLedger): void;
  /**
   * An upstream attempt starts on `channel`; returns the W3C `traceparent` to send upstream (tracing on),
   * else undefined.
   */
  attemptStarted(ledger: RequestLedger, channel: CatalogChannel, upstreamModel: string): string | undefined;
  attemptEnded(ledger: RequestLedger, channel: CatalogChannel, outcome: AttemptOutcome): void;
  /** Another attempt follows a failed one (a failover when `to` is another channel). */
  retried(ledger: RequestLedger, from: CatalogChannel, to: CatalogChannel): void;
  /** A provider key of `channel` was rested after a 429. */
  keyRested(channel: CatalogChannel): void;
  /** The admission stage refused the request (a rate limit or a budget). */
  refused(ledger: RequestLedger, refusal: Refusal): void;
  /** The request's answer is decided (status known); its tokens may still be counted. */
  settling(ledger: RequestLedger, status: number, errorCode: string | null): void;
  /** The request is settled and billed (its usage row is queued). */
  settled(ledger: RequestLedger, request: SettledRequest): void;
}

const nothing = (): void => undefined;

/** Observability off: every hook does nothing. */
export const NOOP_OBSERVER: GatewayObserver = {
  opened: nothing,
  attemptStarted: () => undefined,
  attemptEnded: nothing,
  retried: nothing,
  keyRested: nothing,
  refused: nothing,
  settling: nothing,
  settled: nothing,
};
