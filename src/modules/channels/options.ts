/** Per-channel settings stored as JSON in channels.options. */
export interface ChannelOptions {
  /** Extra headers sent upstream with every request (e.g. OpenRouter's HTTP-Referer). */
  headers?: Record<string, string>;
  timeouts?: ChannelTimeouts;
  /** Rename models on the way upstream: { "public-or-route-name": "upstream-name" }. */
  modelMapping?: Record<string, string>;
  /** Provider-specific options, e.g. Azure `apiVersion`, `deployment`, `apiMode`. */
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

export function parseChannelOptions(json: string): ChannelOptions {
  const value: unknown = JSON.parse(json);
  return value && typeof value === 'object' ? (value as ChannelOptions) : {};
}
