/**
 * The Prometheus registry of one instance: the data plane's request families (./request-metrics.ts),
 * values read at scrape time (channel health, key rests, the usage writer, the TLS certificate), and
 * Node's process metrics. Each instance serves its own; Prometheus adds them up.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Catalog, HealthRegistry } from '../gateway/index.js';
import { CounterFamily, type HistogramCell, HistogramFamily, ScrapedFamily } from './families.js';
import { RequestMetrics, type RequestMetricsOptions } from './request-metrics.js';

const FLUSH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the usage writer reports (implemented by modules/usage/recorder.ts). */
export interface UsageQueue {
  /** Rows waiting to be written. */
  readonly pending: number;
  /** Requests admitted whose row has not been handed over yet. */
  readonly outstanding: number;
  /** Rows lost (buffer overflow while the database was down). */
  readonly dropped: number;
}

/** The certificate's state, as GET /api/admin/tls reports it. */
export interface CertificateState {
  source: 'acme' | 'files' | 'none';
  notAfter: number | null;
  renewedAt: number | null;
  lastAttemptAt: number | null;
  failures: number;
}

export interface MetricsSources {
  catalog: Catalog;
  health: HealthRegistry;
  usage: UsageQueue;
  now: () => number;
}

type Series = Array<readonly [readonly string[], number]>;

/** The registry, and what feeds it. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: RequestMetrics;
  readonly #flush: HistogramCell;
  #certificate: (() => CertificateState) | undefined;

  constructor(options: RequestMetricsOptions) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    this.requests = new RequestMetrics(r, options);
    new ScrapedFamily('aihub_requests_in_flight', 'Requests being served now', 'gauge', ['endpoint'], r, () =>
      [...this.requests.inFlight].map(([endpoint, n]) => [[endpoint], n] as const),
    );
    this.#flush = new HistogramFamily(
      'aihub_usage_flush_duration_seconds',
      'Time to write one batch of request-log rows',
      [],
      r,
      FLUSH_BUCKETS,
    ).cell();
    // No response cache exists yet: the family is there (and 0) so dashboards and alerts can be written now.
    new CounterFamily('aihub_cache_hits_total', 'Answers served from the response cache', [], r).cell();
    new ScrapedFamily(
      'aihub_tls_certificate_expiry_timestamp_seconds',
      'When the served certificate expires',
      'gauge',
      ['source'],
      r,
      () => this.certificate((c) => c.notAfter),
    );
    new ScrapedFamily(
      'aihub_tls_certificate_renewed_timestamp_seconds',
      'Last successful ACME renewal',
      'gauge',
      ['source'],
      r,
      () => this.certificate((c) => c.renewedAt),
    );
    new ScrapedFamily(
      'aihub_tls_renewal_failures',
      'Failed ACME orders since the last success (0 when the last renewal worked)',
      'gauge',
      ['source'],
      r,
      () => this.certificate((c) => (c.source === 'acme' ? c.failures : null), false),
    );
  }

  /** Write the usage writer's flushes into the flush-latency histogram (call with each batch's ms). */
  readonly flushed = (ms: number): void => this.#flush.observe(ms / 1000);

  /** Read the channels, their health and the usage writer at each scrape. */
  watch(sources: MetricsSources): void {
    const r = this.registry;
    const { catalog, health, usage, now } = sources;
    new ScrapedFamily(
      'aihub_channel_up',
      '1 when the channel is enabled and not every circuit breaker of it is open',
      'gauge',
      ['channel', 'provider'],
      r,
      () =>
        catalog.allChannels().map((c) => {
          const states = health.breakerStates(c.id);
          const allOpen = states.closed + states.half_open === 0 && states.open > 0;
          return [[c.name, c.type], c.active && !allOpen ? 1 : 0] as const;
        }),
    );
    new ScrapedFamily(
      'aihub_channel_breakers',
      'Routing targets (channel × upstream model) by circuit-breaker state',
      'gauge',
      ['channel', 'provider', 'state'],
      r,
      () => {
        const out: Series = [];
        for (const c of catalog.allChannels()) {
          const states = health.breakerStates(c.id);
          for (const state of ['closed', 'open', 'half_open'] as const)
            out.push([[c.name, c.type, state], states[state]]);
        }
        return out;
      },
    );
    new ScrapedFamily(
      'aihub_provider_keys_resting',
      'Provider keys resting after an upstream 429',
      'gauge',
      ['channel', 'provider'],
      r,
      () => catalog.allChannels().map((c) => [[c.name, c.type], health.restingKeys(c.id, now())] as const),
    );
    new ScrapedFamily('aihub_usage_queue_depth', 'Request-log rows waiting to be written', 'gauge', [], r, () => [
      [[], usage.pending],
    ]);
    new ScrapedFamily(
      'aihub_usage_unsettled_requests',
      'Admitted requests whose log row is not queued yet',
      'gauge',
      [],
      r,
      () => [[[], usage.outstanding]],
    );
    new ScrapedFamily(
      'aihub_usage_rows_dropped_total',
      'Request-log rows lost (database down too long)',
      'counter',
      [],
      r,
      () => [[[], usage.dropped]],
    );
  }

  /** Report the served certificate (files or ACME) at each scrape. */
  watchCertificate(status: () => CertificateState): void {
    this.#certificate = status;
  }

  /** The text exposition of every family. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private certificate(pick: (c: CertificateState) => number | null, asSeconds = true): Series {
    const status = this.#certificate?.();
    if (!status || status.source === 'none') return [];
    const value = pick(status);
    return value === null ? [] : [[[status.source], asSeconds ? value / 1000 : value]];
  }
}
