/**
 * Observability of one instance: Prometheus metrics (./metrics.ts) and OpenTelemetry traces
 * (./tracing.ts), both fed by the data plane's {@link GatewayObserver} hooks. Off (the default) the gateway
 * gets the no-op observer; tracing's SDK is not even loaded.
 */
import {
  type AttemptOutcome,
  type CatalogChannel,
  type GatewayObserver,
  NOOP_OBSERVER,
  type Refusal,
  type SettledRequest,
} from '../gateway/index.js';
import type { RequestLedger } from '../gateway/pipeline/ledger.js';
import { Metrics } from './metrics.js';
import type { RequestTracing, TracingOptions } from './tracing.js';

export type { CertificateState, MetricsSources, UsageQueue } from './metrics.js';
export { Metrics } from './metrics.js';
export type { RequestTracing } from './tracing.js';

export interface Observability {
  /** What the data plane calls. */
  observer: GatewayObserver;
  /** The registry /metrics renders (undefined: metrics off). */
  metrics: Metrics | undefined;
  tracing: RequestTracing | undefined;
  close(): Promise<void>;
}

export interface ObservabilityOptions {
  /** Keep metrics (a /metrics token or port is configured). */
  metrics: boolean;
  /** The `metricsByOrganization` setting. */
  byOrganization: () => boolean;
  tracing?: RequestTracing | undefined;
}

/** Build the instance's observability; the no-op observer when both are off. */
export function createObservability(options: ObservabilityOptions): Observability {
  const metrics = options.metrics ? new Metrics({ byOrganization: options.byOrganization }) : undefined;
  const tracing = options.tracing;
  const observer =
    metrics && tracing ? new BothObservers(metrics.requests, tracing) : (metrics?.requests ?? tracing ?? NOOP_OBSERVER);
  return { observer, metrics, tracing, close: async () => tracing?.shutdown() };
}

/** Start trace export (loads the OpenTelemetry SDK); call only when tracing is configured. */
export async function openTracing(options: TracingOptions = {}): Promise<RequestTracing> {
  const { RequestTracing } = await import('./tracing.js');
  return new RequestTracing(options);
}

/** Metrics and traces both on: each hook goes to both (tracing's `traceparent` is the one returned). */
class BothObservers implements GatewayObserver {
  constructor(
    private readonly a: GatewayObserver,
    private readonly b: GatewayObserver,
  ) {}

  opened(ledger: RequestLedger): void {
    this.a.opened(ledger);
    this.b.opened(ledger);
  }

  attemptStarted(ledger: RequestLedger, channel: CatalogChannel, upstreamModel: string): string | undefined {
    const first = this.a.attemptStarted(ledger, channel, upstreamModel);
    const second = this.b.attemptStarted(ledger, channel, upstreamModel);
    return first ?? second;
  }

  attemptEnded(ledger: RequestLedger, channel: CatalogChannel, outcome: AttemptOutcome): void {
    this.a.attemptEnded(ledger, channel, outcome);
    this.b.attemptEnded(ledger, channel, outcome);
  }

  retried(ledger: RequestLedger, from: CatalogChannel, to: CatalogChannel): void {
    this.a.retried(ledger, from, to);
    this.b.retried(ledger, from, to);
  }

  keyRested(channel: CatalogChannel): void {
    this.a.keyRested(channel);
    this.b.keyRested(channel);
  }

  refused(ledger: RequestLedger, refusal: Refusal): void {
    this.a.refused(ledger, refusal);
    this.b.refused(ledger, refusal);
  }

  settling(ledger: RequestLedger, status: number, errorCode: string | null): void {
    this.a.settling(ledger, status, errorCode);
    this.b.settling(ledger, status, errorCode);
  }

  settled(ledger: RequestLedger, request: SettledRequest): void {
    this.a.settled(ledger, request);
    this.b.settled(ledger, request);
  }
}
