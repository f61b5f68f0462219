/**
 * The data plane's public face. The control plane and the wiring import from here (or the ports in
 * ./ports.ts) only: `createDataPlane` builds the gateway from the ports, and the Gateway's methods are
 * everything the rest of AI Hub may ask of it.
 */

import type { Clock } from '../core/clock.js';
import type { CounterStore } from '../infra/state/counters.js';
import type { ResponseCache } from './cache.js';
import { Catalog } from './catalog.js';
import { Gateway } from './gateway.js';
import { AutoDisable } from './health/auto-disable.js';
import { HealthChecker } from './health/checker.js';
import { UpstreamInspector } from './health/inspector.js';
import { HealthRegistry } from './health/registry.js';
import { ChannelTester } from './health/tester.js';
import type { GatewayObserver } from './observer.js';
import { DEFAULT_ROUTING, Dispatcher } from './pipeline/dispatch.js';
import { UpstreamClient } from './pipeline/upstream.js';
import type {
  Admission,
  CatalogSource,
  ChannelControl,
  GatewaySettings,
  KeyLookup,
  LimitsLookup,
  UsageSink,
} from './ports.js';

export { costOf } from './accounting.js';
export {
  type CachedAnswer,
  ResponseCache,
  type ResponseCacheSettings,
  type ResponseCacheStore,
} from './cache.js';
export type { Catalog, CatalogChannel, CatalogModel } from './catalog.js';
export {
  DETACHED_ENDPOINTS,
  type DetachedAnswer,
  type DetachedEndpoint,
  type DetachedRequest,
  DetachedRunner,
} from './detached.js';
export { ChatBody } from './endpoints/chat-completions.js';
export type { Endpoint } from './endpoints/endpoint.js';
export { imageGenerations } from './endpoints/images.js';
export { createResponsesEndpoint } from './endpoints/responses.js';
export type { Gateway } from './gateway.js';
export { AUTO_DISABLE_PREFIX } from './health/auto-disable.js';
export type { HealthChecker } from './health/checker.js';
export type { UpstreamSpec } from './health/inspector.js';
export type { ChannelHealthSummary, HealthRegistry } from './health/registry.js';
export type { ChannelTestFilter, ChannelTestRow } from './health/test-all.js';
export type { ChannelTestResult } from './health/tester.js';
export type { AttemptOutcome, GatewayObserver, Refusal, SettledRequest } from './observer.js';
export { NOOP_OBSERVER } from './observer.js';
export type { Caller } from './pipeline/authenticate.js';
export { hasLedger } from './pipeline/ledger.js';
export type { UpstreamClient } from './pipeline/upstream.js';
export * from './ports.js';
export { BACKGROUND_RESPONSE_JOB, registerBackgroundResponses } from './responses/background.js';
export { registerResponsesRoutes } from './responses/routes.js';
export type { ResponseOwner, ResponseStore, StoredResponse } from './responses/state.js';
export { registerV1Routes } from './routes.js';
export { parseUnitPrices, type UnitPrices } from './unit-prices.js';

export interface DataPlaneDeps {
  catalog: CatalogSource;
  keys: KeyLookup;
  usage: UsageSink;
  admission: Admission;
  limits: LimitsLookup;
  /** Stores the channel changes the data plane decides (auto-disable, re-enable), with their audit rows. */
  channels: ChannelControl;
  settings: GatewaySettings;
  clock: Clock;
  /** Counters for the per-minute windows of channels' provider limits. */
  counters?: CounterStore | undefined;
  /** Routing randomness (tests inject it). */
  random?: (() => number) | undefined;
  masterKey: string | undefined;
  ipAllowed: (ip: string, cidrs: string[]) => boolean;
  /** Metrics and traces at the stages' boundaries (none when observability is off). */
  observer?: GatewayObserver | undefined;
  /** The response cache (docs/response-cache.md). */
  cache?: ResponseCache | undefined;
}

export interface DataPlane {
  gateway: Gateway;
  /** The in-memory snapshot of channels and models: reload it after a change. */
  catalog: Catalog;
  health: HealthRegistry;
  healthChecker: HealthChecker;
  /** Apply changed settings (breaker thresholds, the health-check interval). */
  settingsChanged(): void;
  close(): Promise<void>;
}

/** Build the data plane from the ports the control plane implements. */
export function createDataPlane(deps: DataPlaneDeps): DataPlane {
  const { settings, clock } = deps;
  const catalog = new Catalog(deps.catalog);
  const upstream = new UpstreamClient();
  const health = new HealthRegistry(clock);
  const applyBreaker = () => {
    const { failureThreshold, cooldownMs } = settings.breaker();
    health.options = { ...health.options, failureThreshold, cooldownMs, windowMs: 60_000 };
  };
  applyBreaker();
  const dispatcher = new Dispatcher({
    counters: deps.counters,
    catalog,
    health,
    clock,
    random: deps.random,
    routing: () => ({
      ...DEFAULT_ROUTING,
      defaultStrategy: settings.routingStrategy(),
      maxAttempts: settings.maxAttempts(),
    }),
    autoDisable: new AutoDisable(deps.channels),
    observer: deps.observer,
  });
  const tester = new ChannelTester(catalog, upstream);
  const healthChecker = new HealthChecker({
    catalog,
    tester,
    health,
    clock,
    intervalSeconds: () => settings.healthCheckIntervalSeconds(),
    autoReenable: () => settings.autoReenableChannels(),
    control: deps.channels,
  });
  const gateway = new Gateway({
    catalog,
    keys: deps.keys,
    usage: deps.usage,
    admission: deps.admission,
    limits: deps.limits,
    settings,
    dispatcher,
    upstream,
    health,
    tester,
    inspector: new UpstreamInspector(catalog, upstream, clock),
    clock,
    masterKey: deps.masterKey,
    ipAllowed: deps.ipAllowed,
    observer: deps.observer,
    cache: deps.cache,
  });
  return {
    gateway,
    catalog,
    health,
    healthChecker,
    settingsChanged: () => {
      applyBreaker();
      healthChecker.settingsChanged();
    },
    close: async () => {
      healthChecker.stop();
      await upstream.close();
    },
  };
}
