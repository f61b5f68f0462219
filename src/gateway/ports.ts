/**
 * What the data plane needs from the rest of AI Hub, as small interfaces it owns. The control plane's
 * modules implement them (`KeyVerifier implements KeyLookup`, `LimitEnforcer implements Admission`,
 * `UsageRecorder implements UsageSink`, …) and the wiring (src/services.ts) hands them in; nothing under
 * src/gateway/ imports from src/modules/.
 */
import type { ModelRoutesTable, ModelsTable, ModelTagRoutesTable, RequestLogsTable } from '../infra/db/schema.js';

/** How a model orders its channels (the admin's choice per model, or the instance default). */
export const STRATEGIES = ['weighted', 'round_robin', 'lowest_latency', 'least_inflight'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** The limits of one level (key, user, team, org): opaque here, read by the {@link Admission} that set them. */
export type LimitPolicy = object;

/** What the data plane knows of a verified virtual key. */
export interface VerifiedKey {
  id: string;
  userId: string;
  orgId: string;
  teamId: string | null;
  allowedModels: string[] | null;
  /** Further allow-lists a model must also match: the organization's and the team's model access. */
  modelLimits: ReadonlyArray<readonly string[]>;
  /** Channel groups the organization and the team are limited to: a channel must be in one of each list. */
  channelLimits: ReadonlyArray<readonly string[]>;
  allowedIps: string[] | null;
  /** Answers to this key's requests are cached (docs/response-cache.md). */
  responseCache: boolean;
  limits: LimitPolicy;
}

/** A verdict on a presented key: the key, or why not (a "no" is a value, a broken database an error). */
export type KeyCheck =
  | { ok: true; key: VerifiedKey }
  | { ok: false; code: 'NOT_FOUND' | 'REVOKED' | 'DISABLED' | 'EXPIRED' | 'OWNER_DISABLED' | 'ORG_DISABLED' };

/** Verifies a virtual API key (from memory in steady state). Implemented by modules/keys/verifier.ts. */
export interface KeyLookup {
  verify(secret: string): Promise<KeyCheck>;
  /** The same checks for a key known by id (a batch runs as the key that created it). */
  verifyId(keyId: string): Promise<KeyCheck>;
}

/** One level a request belongs to, with its limits. */
export interface Scope {
  type: 'key' | 'user' | 'team' | 'org';
  id: string;
  policy: LimitPolicy;
}

/** What a request may consume, reserved before it runs. */
export interface Reservation {
  /** Tokens to reserve (prompt + the most the answer may use). */
  tokens: number;
  /** Cost to reserve, micro-USD. */
  costMicros: number;
}

/** What an admitted request holds until it settles. */
export interface AdmissionTicket {
  /** `x-ratelimit-*` headers for the answer. */
  headers: Record<string, string>;
  /** Replace the reservation by the actual cost and tokens; release the concurrency slot. Never throws. */
  settle(costMicros: number, tokens: number): void;
}

/**
 * Admits a request against every limit of its levels, reserving its estimate (called only when a limit
 * needs it), or throws the refusal. Implemented by modules/limits/enforcer.ts.
 */
export interface Admission {
  admit(scopes: Scope[], estimate: () => Reservation): Promise<AdmissionTicket>;
}

/** The limits set on a user, team or organization. Implemented by modules/limits/service.ts. */
export interface LimitsLookup {
  get(scope: 'user' | 'team' | 'org', id: string): LimitPolicy;
}

/** Where settled requests go: one row each, written off the hot path. Implemented by modules/usage/recorder.ts. */
export interface UsageSink {
  /** A request has begun: its row will follow (shutdown waits for it). */
  expect(): void;
  /** The row that was expected will not come. */
  fulfil(): void;
  /** A row that `pending` queues once its tokens are counted. */
  track(pending: Promise<void>): void;
  /** Queue one row. Never throws, never waits. */
  record(row: RequestLogsTable): void;
}

/** Per-channel settings stored as JSON in channels.options. */
export interface ChannelOptions {
  /** Extra headers sent upstream with every request (e.g. OpenRouter's HTTP-Referer). */
  headers?: Record<string, string>;
  timeouts?: ChannelTimeouts;
  /** Rename models on the way upstream: { "public-or-route-name": "upstream-name" }. */
  modelMapping?: Record<string, string>;
  /** Provider options, as the provider declares them (GET /api/admin/providers). */
  provider?: Record<string, string>;
  /** What the provider allows this channel; routing skips the channel while it is saturated. */
  limits?: { rpm?: number; tpm?: number };
}

export interface ChannelTimeouts {
  /** TCP/TLS connect. */
  connectMs?: number;
  /** Until the upstream's response headers (and, for streams, its first byte). */
  firstByteMs?: number;
  /** Longest silence between two stream chunks. */
  idleMs?: number;
  /** Whole request. */
  totalMs?: number;
}

export const DEFAULT_TIMEOUTS: Required<ChannelTimeouts> = {
  connectMs: 10_000,
  firstByteMs: 60_000,
  idleMs: 60_000,
  totalMs: 600_000,
};

/** One stored channel with its decrypted provider keys. */
export interface StoredChannel {
  row: {
    id: string;
    name: string;
    type: string;
    base_url: string | null;
    status: string;
    disabled_reason: string | null;
    priority: number;
    weight: number;
  };
  options: ChannelOptions;
  /** The groups the channel is in (never empty). */
  groups: string[];
  /** The channel's tags (model routes may name one). */
  tags?: string[];
  keys: Array<{ id: string; secret: string }>;
}

/** Where the catalog snapshot is read from. Implemented by the channels and models modules. */
export interface CatalogSource {
  loadChannels(): Promise<StoredChannel[]>;
  listModels(): Promise<ModelsTable[]>;
  listRoutes(): Promise<ModelRoutesTable[]>;
  /** Routes naming a channel tag (expanded into one route per channel with it). */
  listTagRoutes?(): Promise<ModelTagRoutesTable[]>;
}

/**
 * Changes of a channel's state that the data plane decides on its own (auto-disable of a failing channel,
 * re-enable after a passing health check), recorded in the audit log by the control plane.
 */
export interface ChannelControl {
  /** Store the channel disabled with the reason `AUTO_DISABLE_PREFIX + reason`, and audit it. */
  disable(channelId: string, reason: string): Promise<void>;
  /** Store the channel enabled again, and audit it with `reason`. */
  enable(channelId: string, reason: string): Promise<void>;
}

/** Admin settings the data plane reads (each call reads the current value). */
export interface GatewaySettings {
  /** Tell clients which channel served them. */
  exposeChannelHeader(): boolean;
  /** Whether (and how much of) request and response bodies the request log keeps. */
  bodyCapture(): { mode: 'errors' | 'all'; maxChars: number } | undefined;
  /** The instance's default routing strategy. */
  routingStrategy(): Strategy;
  /** Most upstream attempts per request (failover included). */
  maxAttempts(): number;
  healthCheckIntervalSeconds(): number;
  autoReenableChannels(): boolean;
  /** Circuit breaker: failures within a minute that open it, and how long it stays open. */
  breaker(): { failureThreshold: number; cooldownMs: number };
}
